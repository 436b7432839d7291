"""``@cached``: a shared, stampede-safe cache for sync and async functions.

Hit path: one ``GET`` (one script call with ``stale_while_revalidate``). On a miss, exactly one
process computes: callers take a short lock (``cached:<key>``) and the others wait on it, then
find the value. A computing process that dies frees the lock when its lease ends.
With ``stale_while_revalidate=ms`` entries live ``ttl + ms``; in that last window a caller gets
the stale value at once and one background refresh runs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from redis.exceptions import RedisError

from goscope_redis.decorators._keys import KeyBuilder
from goscope_redis.decorators._resolve import async_resolver, sync_resolver
from goscope_redis.decorators._results import from_storable, to_storable
from goscope_redis.durations import optional_ms, to_ms, wait_ms
from goscope_redis.errors import GoScopeRedisError, LockTimeoutError

logger = logging.getLogger("goscope_redis")
F = TypeVar("F", bound=Callable[..., Any])
_MISS: Any = object()


class _Policy:
    """Everything about one decorated function that does not depend on sync or async."""

    def __init__(self, fn: Callable[..., Any], **opts: Any) -> None:
        self.keys = KeyBuilder(fn, opts["key"])
        self.ttl = to_ms(opts["ttl"])
        self.swr = optional_ms(opts["stale_while_revalidate"], "stale_while_revalidate")
        self.cache_none = bool(opts["cache_none"])
        self.fail_open = bool(opts["fail_open"])
        self.lock_ttl = to_ms(opts["lock_ttl"], "lock_ttl")
        self.wait = wait_ms(opts["wait"])
        self.store_ttl = self.ttl + (self.swr or 0)
        self.result_type: type | None = opts["result_type"]
        self.background: set[Any] = set()

    def storable(self, value: Any) -> bool:
        """Whether a computed ``value`` should be cached."""
        return value is not None or self.cache_none

    def loaded(self, value: Any) -> Any:
        """A cached value as the caller sees it."""
        return value if value is _MISS else from_storable(value, self.result_type)

    def dumped(self, value: Any) -> Any:
        """A computed value as it is stored."""
        return to_storable(value, self.result_type)

    def is_stale(self, pttl: int) -> bool:
        return self.swr is not None and 0 <= pttl <= self.swr

    def storage_failed(self, exc: BaseException, key: str) -> None:
        """Fail open (log, then call through) or re-raise, as configured."""
        if not self.fail_open and not isinstance(exc, LockTimeoutError):
            raise exc
        logger.warning("goscope_redis: @cached %r: %s; calling the function directly", key, exc)


def cached(
    ttl: Any,
    key: str | None = None,
    *,
    cache_none: bool = False,
    stale_while_revalidate: Any = None,
    fail_open: bool = True,
    lock_ttl: Any = 10_000,
    wait: Any = 30_000,
    result_type: type | None = None,
    adapter: Any = None,
) -> Callable[[F], F]:
    """Cache a function's result in Redis for ``ttl`` ms, shared by every worker process.

    ``result_type`` (a dataclass or pydantic model) is stored as JSON and rebuilt on a hit.
    """

    def decorate(fn: F) -> F:
        policy = _Policy(
            fn, key=key, ttl=ttl, stale_while_revalidate=stale_while_revalidate,
            cache_none=cache_none, fail_open=fail_open, lock_ttl=lock_ttl, wait=wait,
            result_type=result_type,
        )  # fmt: skip
        if inspect.iscoroutinefunction(fn):
            return cast(F, _async_wrapper(fn, policy, async_resolver(adapter, fn)))
        return cast(F, _sync_wrapper(fn, policy, sync_resolver(adapter, fn)))

    return decorate


def _sync_wrapper(fn: Callable[..., Any], policy: _Policy, resolve: Callable[[], Any]) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = policy.keys.build(args, kwargs)
        try:
            adapter = resolve()
            value = _lookup_sync(fn, policy, adapter, key, args, kwargs)
        except RedisError as exc:
            policy.storage_failed(exc, key)
            return fn(*args, **kwargs)
        if value is not _MISS:
            return value
        return _compute_sync(fn, policy, adapter, key, args, kwargs)

    wrapper.invalidate = lambda *a, **kw: resolve().delete(policy.keys.build(a, kw))  # type: ignore[attr-defined]
    wrapper.invalidate_all = lambda: resolve().delete_pattern(policy.keys.glob())  # type: ignore[attr-defined]
    return wrapper


def _lookup_sync(fn: Any, policy: _Policy, adapter: Any, key: str, args: Any, kwargs: Any) -> Any:
    if policy.swr is None:
        return policy.loaded(adapter.get(key, _MISS))
    value, pttl = adapter._get_with_ttl(key, _MISS)
    if value is not _MISS and policy.is_stale(pttl):
        _refresh_in_thread(fn, policy, adapter, key, args, kwargs)
    return policy.loaded(value)


def _compute_sync(fn: Any, policy: _Policy, adapter: Any, key: str, args: Any, kwargs: Any) -> Any:
    ctx = adapter.lock("cached:" + key, policy.lock_ttl, wait=policy.wait)
    try:
        ctx.__enter__()
    except (LockTimeoutError, RedisError) as exc:
        policy.storage_failed(exc, key)
        return fn(*args, **kwargs)
    try:
        value = policy.loaded(_quietly(policy, key, lambda: adapter.get(key, _MISS), _MISS))
        if value is _MISS:  # nobody computed it while we waited: our turn
            value = fn(*args, **kwargs)
            if policy.storable(value):
                _quietly(
                    policy,
                    key,
                    lambda: adapter.set(key, policy.dumped(value), policy.store_ttl),
                    None,
                )
        return value
    finally:
        _quietly(policy, key, lambda: ctx.__exit__(None, None, None), None)


def _quietly(policy: _Policy, key: str, call: Callable[[], Any], fallback: Any) -> Any:
    # Storage trouble after the lock is ours must not fail the call: the cache is an optimisation.
    try:
        return call()
    except (RedisError, GoScopeRedisError) as exc:
        policy.storage_failed(exc, key)
        return fallback


def _refresh_in_thread(fn: Any, policy: _Policy, adapter: Any, key: str, a: Any, kw: Any) -> None:
    def refresh() -> None:
        handle = adapter.acquire("cached:" + key, policy.lock_ttl)
        if handle is None:
            return  # someone else is refreshing
        try:
            value = fn(*a, **kw)
            if policy.storable(value):
                adapter.set(key, policy.dumped(value), policy.store_ttl)
        except Exception:
            logger.exception("goscope_redis: @cached %r: background refresh failed", key)
        finally:
            handle.release()

    threading.Thread(target=refresh, name=f"goscope-refresh:{key}", daemon=True).start()


def _async_wrapper(fn: Callable[..., Any], policy: _Policy, resolve: Callable[[], Any]) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = policy.keys.build(args, kwargs)
        try:
            adapter = resolve()
            value = await _lookup_async(fn, policy, adapter, key, args, kwargs)
        except RedisError as exc:
            policy.storage_failed(exc, key)
            return await fn(*args, **kwargs)
        if value is not _MISS:
            return value
        return await _compute_async(fn, policy, adapter, key, args, kwargs)

    async def invalidate(*a: Any, **kw: Any) -> bool:
        return bool(await resolve().delete(policy.keys.build(a, kw)))

    async def invalidate_all() -> int:
        return int(await resolve().delete_pattern(policy.keys.glob()))

    wrapper.invalidate = invalidate  # type: ignore[attr-defined]
    wrapper.invalidate_all = invalidate_all  # type: ignore[attr-defined]
    return wrapper


async def _lookup_async(
    fn: Any, policy: _Policy, adapter: Any, key: str, args: Any, kwargs: Any
) -> Any:
    if policy.swr is None:
        return policy.loaded(await adapter.get(key, _MISS))
    value, pttl = await adapter._get_with_ttl(key, _MISS)
    if value is not _MISS and policy.is_stale(pttl):
        _refresh_in_task(fn, policy, adapter, key, args, kwargs)
    return policy.loaded(value)


async def _compute_async(
    fn: Any, policy: _Policy, adapter: Any, key: str, args: Any, kwargs: Any
) -> Any:
    ctx = adapter.lock("cached:" + key, policy.lock_ttl, wait=policy.wait)
    try:
        await ctx.__aenter__()
    except (LockTimeoutError, RedisError) as exc:
        policy.storage_failed(exc, key)
        return await fn(*args, **kwargs)
    try:
        value = policy.loaded(await _aquietly(policy, key, adapter.get(key, _MISS), _MISS))
        if value is _MISS:
            value = await fn(*args, **kwargs)
            if policy.storable(value):
                await _aquietly(
                    policy, key, adapter.set(key, policy.dumped(value), policy.store_ttl), None
                )
        return value
    finally:
        await _aquietly(policy, key, ctx.__aexit__(None, None, None), None)


async def _aquietly(policy: _Policy, key: str, call: Any, fallback: Any) -> Any:
    try:
        return await call
    except (RedisError, GoScopeRedisError) as exc:
        policy.storage_failed(exc, key)
        return fallback


def _refresh_in_task(fn: Any, policy: _Policy, adapter: Any, key: str, a: Any, kw: Any) -> None:
    async def refresh() -> None:
        handle = await adapter.acquire("cached:" + key, policy.lock_ttl)
        if handle is None:
            return
        try:
            value = await fn(*a, **kw)
            if policy.storable(value):
                await adapter.set(key, policy.dumped(value), policy.store_ttl)
        except Exception:
            logger.exception("goscope_redis: @cached %r: background refresh failed", key)
        finally:
            await handle.release()

    task = asyncio.get_running_loop().create_task(refresh())
    policy.background.add(task)  # keep a reference until it finishes
    task.add_done_callback(policy.background.discard)
