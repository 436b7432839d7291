"""Lock provider facades: ``acquire``, ``extend``, ``release``, ``force_release``, ``lock``."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any

from goscope_redis.durations import to_ms, wait_ms
from goscope_redis.facades.base import AdapterCore
from goscope_redis.keys import validate_key
from goscope_redis.locking import (
    AsyncLockContext,
    AsyncLockHandle,
    LockHandle,
    OnLost,
    SyncLockContext,
    new_owner,
)
from goscope_redis.ops import lock as ops
from goscope_redis.renewal import SyncRenewer
from goscope_redis.runner import run_async, run_sync

logger = logging.getLogger("goscope_redis")


_BACKGROUND: set[asyncio.Task[Any]] = set()
"""Releases finishing for cancelled callers (the loop keeps only weak references to tasks)."""


def _in_background(release: Coroutine[Any, Any, bool], key: str) -> None:
    task = asyncio.get_running_loop().create_task(release, name=f"goscope-lock-release:{key}")
    _BACKGROUND.add(task)
    task.add_done_callback(functools.partial(_released, key))


def _released(key: str, task: asyncio.Task[Any]) -> None:
    _BACKGROUND.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.warning("goscope_redis: releasing lock %r failed (%s); it expires by TTL", key, exc)


def _owner(owner: str | None) -> tuple[str, bool]:
    if owner is None:
        return new_owner(), True
    if not isinstance(owner, str) or not owner:
        raise ValueError("owner must be a non-empty str (or None for a random one)")
    return owner, False


class SyncLockAPI(AdapterCore):
    """Distributed locks with fencing tokens (sync)."""

    @functools.cached_property
    def _renewer(self) -> SyncRenewer:
        return SyncRenewer()

    def acquire(self, key: str, ttl: Any, owner: str | None = None) -> LockHandle | None:
        """Try once to take ``key`` for ``ttl`` ms; ``None`` if another owner holds it."""
        ttl_ms, (owner, _) = to_ms(ttl), _owner(owner)
        got = run_sync(ops.acquire(self._lock_keys, validate_key(key), owner, ttl_ms), self._client)
        return LockHandle(self, key, owner, got.token, ttl_ms) if got.ok else None

    def extend(self, key: str, ttl: Any, owner: str) -> bool:
        """Reset the lease to ``ttl`` ms if ``owner`` still holds ``key``."""
        return run_sync(ops.extend(self._lock_keys, key, owner, to_ms(ttl)), self._client)

    def release(self, key: str, owner: str) -> bool:
        """Release ``key`` if ``owner`` holds it; wakes one waiter."""
        return run_sync(ops.release(self._lock_keys, key, owner), self._client)

    def force_release(self, key: str) -> bool:
        """Delete the lock whoever holds it (an operator's escape hatch)."""
        return run_sync(ops.force_release(self._lock_keys, key), self._client)

    def lock(
        self,
        key: str,
        ttl: Any = 30_000,
        *,
        wait: Any = None,
        auto_extend: bool = True,
        on_lost: OnLost | None = None,
    ) -> SyncLockContext:
        """Block up to ``wait`` ms for ``key``, auto-extend the lease, release at exit."""
        return SyncLockContext(
            self, validate_key(key), to_ms(ttl), wait_ms(wait), auto_extend, on_lost
        )

    def _acquire_waiting(self, key: str, ttl_ms: int, wait: int | None) -> LockHandle:
        owner = new_owner()
        op = ops.acquire_waiting(self._lock_keys, key, owner, ttl_ms, wait, self._max_block_s)
        token: int = run_sync(op, self._client)
        return LockHandle(self, key, owner, token, ttl_ms)

    def _lock_remaining(self, key: str, owner: str) -> int:
        return run_sync(ops.remaining(self._lock_keys, key, owner), self._client)


class AsyncLockAPI(AdapterCore):
    """Distributed locks with fencing tokens (async). Same names as the sync API."""

    async def acquire(self, key: str, ttl: Any, owner: str | None = None) -> AsyncLockHandle | None:
        """Try once to take ``key`` for ``ttl`` ms; ``None`` if another owner holds it."""
        ttl_ms, (owner, fresh) = to_ms(ttl), _owner(owner)
        op = ops.acquire(self._lock_keys, validate_key(key), owner, ttl_ms)
        got = await self._compensated(run_async(op, self._client), key, owner if fresh else None)
        return AsyncLockHandle(self, key, owner, got.token, ttl_ms) if got.ok else None

    async def extend(self, key: str, ttl: Any, owner: str) -> bool:
        """Reset the lease to ``ttl`` ms if ``owner`` still holds ``key``."""
        return await run_async(ops.extend(self._lock_keys, key, owner, to_ms(ttl)), self._client)

    async def release(self, key: str, owner: str) -> bool:
        """Release ``key`` if ``owner`` holds it. A cancelled caller still releases."""
        try:
            return await run_async(ops.release(self._lock_keys, key, owner), self._client)
        except asyncio.CancelledError:
            # Cancelled mid-release: it may or may not have reached Redis. Sending it again is
            # harmless (only this owner's lease is ever deleted), so it goes again in a task
            # the cancel cannot reach. A shield would cost that task on every release.
            _in_background(run_async(ops.release(self._lock_keys, key, owner), self._client), key)
            raise

    async def force_release(self, key: str) -> bool:
        """Delete the lock whoever holds it (an operator's escape hatch)."""
        return await run_async(ops.force_release(self._lock_keys, key), self._client)

    def lock(
        self,
        key: str,
        ttl: Any = 30_000,
        *,
        wait: Any = None,
        auto_extend: bool = True,
        on_lost: OnLost | None = None,
    ) -> AsyncLockContext:
        """Wait up to ``wait`` ms for ``key``, auto-extend the lease, release at exit."""
        return AsyncLockContext(
            self, validate_key(key), to_ms(ttl), wait_ms(wait), auto_extend, on_lost
        )

    async def _acquire_waiting(self, key: str, ttl_ms: int, wait: int | None) -> AsyncLockHandle:
        owner = new_owner()
        op = ops.acquire_waiting(self._lock_keys, key, owner, ttl_ms, wait, self._max_block_s)
        token: int = await self._compensated(run_async(op, self._client), key, owner, waiter=True)
        return AsyncLockHandle(self, key, owner, token, ttl_ms)

    async def _lock_remaining(self, key: str, owner: str) -> int:
        return await run_async(ops.remaining(self._lock_keys, key, owner), self._client)

    async def _compensated(
        self, attempt: Any, key: str, fresh_owner: str | None, waiter: bool = False
    ) -> Any:
        # Cancelled after the script was sent, the lock may be ours without our knowing: release
        # it (shielded) so no orphan waits out its TTL. Only for owners we generated just now.
        # A cancelled waiter also leaves the waiters, so its reserved turn blocks nobody.
        try:
            return await attempt
        except asyncio.CancelledError:
            if fresh_owner is not None:
                await asyncio.shield(asyncio.ensure_future(self._undo(key, fresh_owner, waiter)))
            raise

    async def _undo(self, key: str, owner: str, waiter: bool) -> None:
        await run_async(ops.release(self._lock_keys, key, owner), self._client)
        if waiter:
            await run_async(ops.abandon(self._lock_keys, key, owner), self._client)
