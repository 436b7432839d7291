"""``scope.lock(...)``: the adapter's lock, tracked so the scope releases it at exit at the latest.

The scope passes itself as the lock's ``on_lost`` callback: when auto-extension finds the lease
gone, the scope is cancelled and raises ``LockLostError``, so the work never goes on unprotected.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import TYPE_CHECKING

import anyio

from goscope_redis.errors import LockLostError
from goscope_redis.locking import AsyncLockContext, AsyncLockHandle, LockHandle, SyncLockContext

if TYPE_CHECKING:
    from goscope_redis.scope._async import AsyncScope
    from goscope_redis.scope._sync import Scope


class AsyncScopeLock:
    """``async with scope.lock(key, ttl, wait=...) as handle:``."""

    __slots__ = ("_ctx", "_scope")

    def __init__(self, scope: AsyncScope, ctx: AsyncLockContext) -> None:
        self._scope = scope
        self._ctx = ctx

    async def __aenter__(self) -> AsyncLockHandle:
        handle = await self._ctx.__aenter__()
        self._scope._held[self] = None
        self._scope._lock_acquired(handle)
        return handle

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scope._held.pop(self, self) is None:  # not yet released by the scope
            # Shielded, so a cancelled block still deletes the key before the scope exits.
            with anyio.CancelScope(shield=True):
                await self._ctx.__aexit__(exc_type, exc, tb)

    async def release_at_exit(self) -> None:
        """Release on behalf of a block that never exited (the scope is closing)."""
        with contextlib.suppress(LockLostError):  # the scope reports a lost lock itself
            await self._ctx.__aexit__(None, None, None)


class SyncScopeLock:
    """``with scope.lock(key, ttl, wait=...) as handle:``."""

    __slots__ = ("_ctx", "_scope")

    def __init__(self, scope: Scope, ctx: SyncLockContext) -> None:
        self._scope = scope
        self._ctx = ctx

    def __enter__(self) -> LockHandle:
        handle = self._ctx.__enter__()
        with self._scope._mutex:
            self._scope._held[self] = None
        self._scope._lock_acquired(handle)
        return handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._scope._mutex:
            held = self._scope._held.pop(self, self) is None
        if held:
            self._ctx.__exit__(exc_type, exc, tb)

    def release_at_exit(self) -> None:
        """Release on behalf of a block that never exited (the scope is closing)."""
        with contextlib.suppress(LockLostError):
            self._ctx.__exit__(None, None, None)
