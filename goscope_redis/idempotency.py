"""``RedisIdempotencyAdapter`` and ``AsyncRedisIdempotencyAdapter``: idempotency records.

They carry go-go-scope's provider calls (``get``, ``set``, ``delete``) and the atomic claim
protocol (``begin``, ``complete``, ``abandon``) that the decorator and the middlewares use. The
state machine is described in :mod:`goscope_redis.ops.idempotency`. Connection ownership is the
same as for the main adapters: a client passed in is borrowed, one made by ``from_url`` is owned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from functools import cached_property
from typing import Any, TypeVar

from goscope_redis.durations import optional_ms, to_ms
from goscope_redis.facades.base import AdapterCore
from goscope_redis.facades.lifecycle import AsyncLifecycle, SyncLifecycle
from goscope_redis.idempotency_records import Claim, IdempotencyRecord
from goscope_redis.keys import KeySpace
from goscope_redis.locking import new_owner
from goscope_redis.ops import idempotency as ops
from goscope_redis.runner import run_async, run_sync

__all__ = ["AsyncRedisIdempotencyAdapter", "Claim", "IdempotencyRecord", "RedisIdempotencyAdapter"]

T = TypeVar("T")


class _IdempotencyCore(AdapterCore):
    @cached_property
    def _idem(self) -> ops.IdempotencySpec:
        return ops.IdempotencySpec(KeySpace(self._prefix, "idempotency"), self._codec)


class RedisIdempotencyAdapter(SyncLifecycle, _IdempotencyCore):
    """Idempotency records over ``redis.Redis`` (or ``RedisCluster``, or fakeredis)."""

    def get(self, key: str) -> IdempotencyRecord | None:
        """The finished record of ``key`` with ``expires_at`` (one round trip), else ``None``."""
        return run_sync(ops.get(self._idem, key), self._client)

    def set(self, key: str, value: Any, ttl: Any = None, *, error: bool = False) -> None:
        """Store a finished record unconditionally; ``ttl`` in ms (``None``: no expiry)."""
        run_sync(ops.set_(self._idem, key, value, optional_ms(ttl), error), self._client)

    def delete(self, key: str) -> bool:
        """Delete the record of ``key`` in any state; return whether it existed."""
        return run_sync(ops.delete(self._idem, key), self._client)

    def begin(self, key: str, *, fingerprint: str | None = None, lease: Any = 30_000) -> Claim:
        """Claim ``key`` for ``lease`` ms, or learn it is in progress, completed or mismatched."""
        op = ops.begin(self._idem, key, new_owner(), to_ms(lease, "lease"), fingerprint)
        return run_sync(op, self._client)

    def complete(self, claim: Claim, value: Any, ttl: Any = None, *, error: bool = False) -> bool:
        """Store the result (``error=True``: a failure) if the claim still owns the key."""
        op = ops.complete(self._idem, claim, value, optional_ms(ttl), error)
        return run_sync(op, self._client)

    def abandon(self, claim: Claim) -> bool:
        """Release the claim so the next ``begin`` starts afresh (only if it still owns it)."""
        return run_sync(ops.abandon(self._idem, claim), self._client)

    def extend(self, claim: Claim, lease: Any) -> bool:
        """Keep a long-running claim: reset its lease to ``lease`` ms if it still owns the key."""
        return run_sync(ops.extend(self._idem, claim, to_ms(lease, "lease")), self._client)


class AsyncRedisIdempotencyAdapter(AsyncLifecycle, _IdempotencyCore):
    """Idempotency records over ``redis.asyncio.Redis``; same names, awaited."""

    async def get(self, key: str) -> IdempotencyRecord | None:
        """The finished record of ``key`` with ``expires_at`` (one round trip), else ``None``."""
        return await run_async(ops.get(self._idem, key), self._client)

    async def set(self, key: str, value: Any, ttl: Any = None, *, error: bool = False) -> None:
        """Store a finished record unconditionally; ``ttl`` in ms (``None``: no expiry)."""
        await run_async(ops.set_(self._idem, key, value, optional_ms(ttl), error), self._client)

    async def delete(self, key: str) -> bool:
        """Delete the record of ``key`` in any state; return whether it existed."""
        return await run_async(ops.delete(self._idem, key), self._client)

    async def begin(
        self, key: str, *, fingerprint: str | None = None, lease: Any = 30_000
    ) -> Claim:
        """Claim ``key`` for ``lease`` ms, or learn it is in progress, completed or mismatched."""
        owner = new_owner()
        op = ops.begin(self._idem, key, owner, to_ms(lease, "lease"), fingerprint)
        try:
            return await run_async(op, self._client)
        except asyncio.CancelledError:
            # Cancelled after the script was sent, the key may be ours without our knowing:
            # abandon it (owner-checked, shielded) so it does not sit in progress for a lease.
            orphan = Claim("started", key, owner=owner)
            await _shielded(run_async(ops.abandon(self._idem, orphan), self._client))
            raise

    async def complete(
        self, claim: Claim, value: Any, ttl: Any = None, *, error: bool = False
    ) -> bool:
        """Store the result (``error=True``: a failure) if the claim still owns the key.

        Shielded: a cancelled caller still stores the result it already computed.
        """
        op = ops.complete(self._idem, claim, value, optional_ms(ttl), error)
        return await _shielded(run_async(op, self._client))

    async def abandon(self, claim: Claim) -> bool:
        """Release the claim so the next ``begin`` starts afresh (only if it still owns it).

        Shielded: a cancelled caller still releases the key.
        """
        return await _shielded(run_async(ops.abandon(self._idem, claim), self._client))

    async def extend(self, claim: Claim, lease: Any) -> bool:
        """Keep a long-running claim: reset its lease to ``lease`` ms if it still owns the key."""
        op = ops.extend(self._idem, claim, to_ms(lease, "lease"))
        return await run_async(op, self._client)


async def _shielded(coro: Coroutine[Any, Any, T]) -> T:
    return await asyncio.shield(asyncio.ensure_future(coro))
