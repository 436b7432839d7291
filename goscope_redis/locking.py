"""Lock handles, the blocking ``lock()`` context managers, and lease auto-extension."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from goscope_redis.errors import LockLostError
from goscope_redis.renewal import Lease

if TYPE_CHECKING:
    from goscope_redis.facades.lock import AsyncLockAPI, SyncLockAPI

logger = logging.getLogger("goscope_redis")

OnLost = Callable[["BaseLockHandle"], Any]


def new_owner() -> str:
    """A random, unguessable owner token (128 bits from the OS CSPRNG)."""
    return os.urandom(16).hex()


class BaseLockHandle:
    """The fields both handles share."""

    __slots__ = ("fencing_token", "key", "lost", "owner", "ttl")

    def __init__(self, key: str, owner: str, fencing_token: int, ttl: int) -> None:
        self.key = key
        self.owner = owner
        self.fencing_token = fencing_token
        self.ttl = ttl
        self.lost = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key={self.key!r}, fencing_token={self.fencing_token}, "
            f"ttl={self.ttl}, lost={self.lost})"
        )

    def _mark_lost(self, on_lost: OnLost | None) -> None:
        if self.lost:
            return
        self.lost = True
        logger.warning(
            "goscope_redis: lock %r (fencing token %s) was lost: auto-extension found it taken "
            "or expired",
            self.key,
            self.fencing_token,
        )
        if on_lost is not None:
            on_lost(self)


class LockHandle(BaseLockHandle):
    """A held lock (sync). ``with handle:`` releases it at the end of the block."""

    __slots__ = ("_api",)

    def __init__(self, api: SyncLockAPI, key: str, owner: str, fencing_token: int, ttl: int):
        super().__init__(key, owner, fencing_token, ttl)
        self._api = api

    def release(self) -> bool:
        """Release the lock if this handle still owns it."""
        return self._api.release(self.key, self.owner)

    def extend(self, ttl: Any = None) -> bool:
        """Reset the lease to ``ttl`` ms (default: the acquire TTL) if still owned."""
        return self._api.extend(self.key, self.ttl if ttl is None else ttl, self.owner)

    def is_valid(self) -> bool:
        """True while this handle's owner still holds the lock in Redis."""
        return self._api._lock_remaining(self.key, self.owner) >= 0

    def __enter__(self) -> LockHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class AsyncLockHandle(BaseLockHandle):
    """A held lock (async). ``async with handle:`` releases it at the end of the block."""

    __slots__ = ("_api",)

    def __init__(self, api: AsyncLockAPI, key: str, owner: str, fencing_token: int, ttl: int):
        super().__init__(key, owner, fencing_token, ttl)
        self._api = api

    async def release(self) -> bool:
        """Release the lock if this handle still owns it (completes even if cancelled)."""
        return await self._api.release(self.key, self.owner)

    async def extend(self, ttl: Any = None) -> bool:
        """Reset the lease to ``ttl`` ms (default: the acquire TTL) if still owned."""
        return await self._api.extend(self.key, self.ttl if ttl is None else ttl, self.owner)

    async def is_valid(self) -> bool:
        """True while this handle's owner still holds the lock in Redis."""
        return await self._api._lock_remaining(self.key, self.owner) >= 0

    async def __aenter__(self) -> AsyncLockHandle:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


async def _renew_async(handle: AsyncLockHandle, on_lost: OnLost | None) -> None:
    """Extend an async lease every third of its TTL until cancelled."""
    interval = handle.ttl / 3000
    valid_until = time.monotonic() + handle.ttl / 1000
    while True:
        await asyncio.sleep(interval)
        try:
            ok = await handle.extend()
        except RedisError as exc:
            logger.warning("goscope_redis: extending lock %r failed: %s", handle.key, exc)
            if time.monotonic() < valid_until:
                continue
            ok = False
        if not ok:
            handle._mark_lost(on_lost)
            return
        valid_until = time.monotonic() + handle.ttl / 1000


class SyncLockContext:
    """``with adapter.lock(key, ttl, wait=...) as handle:`` (see :meth:`SyncLockAPI.lock`)."""

    def __init__(
        self,
        api: SyncLockAPI,
        key: str,
        ttl: int,
        wait: int | None,
        auto_extend: bool,
        on_lost: OnLost | None,
    ) -> None:
        self._api, self._key, self._ttl, self._wait = api, key, ttl, wait
        self._auto_extend, self._on_lost = auto_extend, on_lost
        self._lease: Lease | None = None
        self.handle: LockHandle | None = None

    def __enter__(self) -> LockHandle:
        handle = self._api._acquire_waiting(self._key, self._ttl, self._wait)
        self.handle = handle
        if self._auto_extend:
            self._lease = self._api._renewer.add(handle, self._on_lost)
        return handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        handle = self.handle
        assert handle is not None
        if self._lease is not None:
            self._lease.cancel()
        _release_quietly(handle.key, lambda: handle.release())
        if handle.lost and exc is None:
            raise LockLostError(handle.key, handle.fencing_token)


class AsyncLockContext:
    """``async with adapter.lock(key, ttl, wait=...) as handle:``."""

    def __init__(
        self,
        api: AsyncLockAPI,
        key: str,
        ttl: int,
        wait: int | None,
        auto_extend: bool,
        on_lost: OnLost | None,
    ) -> None:
        self._api, self._key, self._ttl, self._wait = api, key, ttl, wait
        self._auto_extend, self._on_lost = auto_extend, on_lost
        self._renewer: asyncio.Task[None] | None = None
        self.handle: AsyncLockHandle | None = None

    async def __aenter__(self) -> AsyncLockHandle:
        handle = await self._api._acquire_waiting(self._key, self._ttl, self._wait)
        self.handle = handle
        if self._auto_extend:
            self._renewer = asyncio.get_running_loop().create_task(
                _renew_async(handle, self._on_lost), name=f"goscope-lock-renew:{handle.key}"
            )
        return handle

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        handle = self.handle
        assert handle is not None
        if self._renewer is not None:
            self._renewer.cancel()
        await _arelease_quietly(handle.key, handle.release())
        if handle.lost and exc is None:
            raise LockLostError(handle.key, handle.fencing_token)


def _release_quietly(key: str, release: Callable[[], bool]) -> None:
    # The body has finished; a storage error here must not turn its result into a failure.
    # The lease then simply runs out.
    try:
        release()
    except RedisError as exc:
        logger.warning("goscope_redis: releasing lock %r failed (%s); it expires by TTL", key, exc)


async def _arelease_quietly(key: str, release: Awaitable[bool]) -> None:
    try:
        await release
    except RedisError as exc:
        logger.warning("goscope_redis: releasing lock %r failed (%s); it expires by TTL", key, exc)
