"""The lock backend: ``lock(name, timeout=, blocking_timeout=, using="default")``.

Django's units: ``timeout`` is the lease in seconds (default 30) and ``blocking_timeout`` the
longest wait in seconds (``None`` waits without limit, ``0`` tries once). Unlike redis-py's
``Lock`` (which django-redis returns), there is never a lock without a lease: the lease is
renewed in the background while the lock is held (``auto_extend=True``), every acquisition
carries a fencing token that strictly increases per name, and waiters are woken on release
instead of polling. Keys are ``<GOSCOPE prefix>lock:{<name as the cache made it>}``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ImproperlyConfigured

from goscope_redis import AsyncLockHandle, LockHandle, LockNotOwnedError, LockTimeoutError
from goscope_redis.keys import KeySpace
from goscope_redis.locking import AsyncLockContext, SyncLockContext
from goscope_redis_django import connections as conn

if TYPE_CHECKING:
    from goscope_redis_django.options import CacheRuntime

DEFAULT_LEASE_SECONDS: Final = 30


def _lease_ms(timeout: float | None) -> int:
    if timeout is None:
        return DEFAULT_LEASE_SECONDS * 1000
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"lock timeout must be positive seconds or None, got {timeout!r}")
    return max(1, round(timeout * 1000))


def _wait_ms(blocking: bool, blocking_timeout: float | None) -> int | None:
    if not blocking:
        return 0
    if blocking_timeout is None:
        return None
    if isinstance(blocking_timeout, bool) or not isinstance(blocking_timeout, int | float):
        raise ValueError(f"blocking_timeout must be seconds or None, got {blocking_timeout!r}")
    if blocking_timeout < 0:
        raise ValueError(f"blocking_timeout must be >= 0, got {blocking_timeout!r}")
    return 0 if blocking_timeout == 0 else max(1, round(blocking_timeout * 1000))


class CacheLock:
    """A named distributed lock: ``with``/``async with`` it, or ``acquire()``/``release()``.

    Entering yields the core lock handle, whose ``fencing_token`` should accompany every write
    the lock protects. Leaving releases it (and raises ``LockLostError`` if the lease was lost
    while held). One object holds the lock at most once at a time.
    """

    def __init__(
        self,
        runtime: CacheRuntime,
        name: str,
        timeout: float | None = None,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        auto_extend: bool = True,
    ) -> None:
        self._runtime = runtime
        self.name = name
        self._lease = _lease_ms(timeout)
        self._wait = _wait_ms(blocking, blocking_timeout)
        self._auto_extend = auto_extend
        self._ctx: SyncLockContext | AsyncLockContext | None = None

    def __repr__(self) -> str:
        return f"CacheLock(name={self.name!r}, lease_ms={self._lease}, held={self.held})"

    @property
    def held(self) -> bool:
        """True between a successful acquire and the release (by this object)."""
        return self._ctx is not None

    @property
    def handle(self) -> LockHandle | AsyncLockHandle | None:
        """The handle while held (with ``fencing_token``, ``owner``, ``lost``)."""
        return None if self._ctx is None else self._ctx.handle

    @property
    def fencing_token(self) -> int | None:
        """The fencing token of the current acquisition (``None`` while not held)."""
        handle = self.handle
        return None if handle is None else handle.fencing_token

    def _context(self, wait: int | None) -> SyncLockContext:
        adapter = conn.sync_adapter(self._runtime.client, self._runtime.prefix)
        return adapter.lock(self.name, self._lease, wait=wait, auto_extend=self._auto_extend)

    def __enter__(self) -> LockHandle:
        if self._ctx is not None:
            raise RuntimeError(f"lock {self.name!r} is already held by this object")
        ctx = self._context(self._wait)
        handle = ctx.__enter__()  # raises LockTimeoutError after blocking_timeout
        self._ctx = ctx
        return handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ctx, self._ctx = self._ctx, None
        if isinstance(ctx, SyncLockContext):
            ctx.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> AsyncLockHandle:
        if self._ctx is not None:
            raise RuntimeError(f"lock {self.name!r} is already held by this object")
        adapter = conn.async_adapter(self._runtime.client, self._runtime.prefix)
        ctx = adapter.lock(self.name, self._lease, wait=self._wait, auto_extend=self._auto_extend)
        handle = await ctx.__aenter__()
        self._ctx = ctx
        return handle

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ctx, self._ctx = self._ctx, None
        if isinstance(ctx, AsyncLockContext):
            await ctx.__aexit__(exc_type, exc, tb)

    def acquire(self, blocking: bool | None = None, blocking_timeout: float | None = None) -> bool:
        """redis-py style: True once held, False if the wait ran out (nothing raised)."""
        wait = self._wait
        if blocking is not None or blocking_timeout is not None:
            wait = _wait_ms(True if blocking is None else blocking, blocking_timeout)
        if self._ctx is not None:
            raise RuntimeError(f"lock {self.name!r} is already held by this object")
        ctx = self._context(wait)
        try:
            ctx.__enter__()
        except LockTimeoutError:
            return False
        self._ctx = ctx
        return True

    def release(self) -> None:
        """Release a lock taken with :meth:`acquire` (``LockNotOwnedError`` if not held)."""
        if not isinstance(self._ctx, SyncLockContext) or self._ctx.handle is None:
            raise LockNotOwnedError(self.name, "")
        self.__exit__(None, None, None)

    def locked(self) -> bool:
        """True if anyone holds the lock right now."""
        key = KeySpace(self._runtime.prefix, "lock").key(self.name)
        return bool(conn.sync_client(self._runtime.client).exists(key))


def lock(
    name: str,
    timeout: float | None = None,
    blocking_timeout: float | None = None,
    using: str = "default",
    *,
    auto_extend: bool = True,
) -> CacheLock:
    """The lock ``name`` of cache alias ``using`` (``with`` or ``async with`` it).

    Raises ``goscope_redis.LockTimeoutError`` on entry when ``blocking_timeout`` seconds pass.
    """
    from django.core.cache import caches

    from goscope_redis_django.cache import RedisCache

    cache: Any = caches[using]
    if not isinstance(cache, RedisCache):
        raise ImproperlyConfigured(
            f"CACHES[{using!r}] uses {type(cache).__module__}.{type(cache).__qualname__}; "
            "locks need BACKEND 'goscope_redis_django.cache.RedisCache'"
        )
    return cache.lock(
        name, timeout=timeout, blocking_timeout=blocking_timeout, auto_extend=auto_extend
    )
