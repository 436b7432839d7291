"""``goscope_redis_django.cache.RedisCache``: a Django cache backend on the goscope-redis core.

Theory of operation
-------------------
Every method builds a sans-IO operation (:mod:`goscope_redis.ops.cache` or
:mod:`goscope_redis_django._ops`) and hands it to ``run_sync`` over the process's sync client,
or, for the ``a*`` twin, to ``run_async`` over the running loop's async client. So the async
methods are native (no thread hop) and both faces share one implementation.

Keys: Django makes ``KEY_PREFIX:VERSION:key`` (``KEY_FUNCTION``), validates it (the memcached
portability warnings), and the core key space stores it as ``<GOSCOPE prefix>cache:{<key>}``.
The goscope prefix is ``OPTIONS["GOSCOPE_KEY_PREFIX"]``, else ``GOSCOPE_REDIS["KEY_PREFIX"]``.
With Django's own ``make_key``/``validate_key``, the Redis key of each ``str`` key is remembered
in a bounded memo shared by the configuration's instances (``_backend.KEY_MEMO_SIZE``), so
``get_many(100)`` does not rebuild 100 keys per call.

Timeouts are Django's: seconds, ``None`` keeps forever, ``0`` or less expires at once. They
reach Redis in milliseconds, so ``timeout=0.5`` means half a second.
"""

# Django's cache API names its argument `timeout` on the async methods too.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, default_key_func

from goscope_redis.effects import Op
from goscope_redis.ops import cache as ops
from goscope_redis_django import _ops
from goscope_redis_django._backend import SCAN_COUNT
from goscope_redis_django.extras import DjangoRedisExtras
from goscope_redis_django.runtime import runtime_for


class RedisCache(DjangoRedisExtras, BaseCache):  # type: ignore[misc]  # BaseCache is untyped
    """The Django cache API on Redis, with native ``a*`` methods and django-redis's extras."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(params)
        runtime = runtime_for(server, params.get("OPTIONS") or {})
        self._runtime = runtime
        self._spec = runtime.spec
        self._ignore = runtime.ignore_exceptions
        self._client: Any = None
        self._generation = -1
        # Fast paths, valid only while make_key/validate_key are Django's own.
        cls = type(self)
        self._plain_keys = cls.make_key is BaseCache.make_key and self.key_func is default_key_func
        self._plain_validation = cls.validate_key is BaseCache.validate_key
        self._head = f"{self.key_prefix}:{self.version}:"
        plain = self._plain_keys and self._plain_validation
        # Shared by every instance of this configuration (Django makes one per thread/context).
        self._memo = runtime.key_memo(self._head) if plain else None
        self._label = self._head.__add__  # Django key of a remembered key, for messages

    def _add_op(self, key: Any, value: Any, timeout: Any, version: int | None) -> Op[bool]:
        made, ttl = self._key(key, version), self._ms(timeout)
        if ttl == _ops.EXPIRED:
            self._spec.codec.encode(made, value)  # an unstorable value still raises
            return _ops.absent(self._spec, made)
        return ops.add(self._spec, made, value, ttl)

    def _set_op(self, key: Any, value: Any, timeout: Any, version: int | None) -> Op[Any]:
        (made, rkey), ttl = self._keyed(key, version), self._ms(timeout)
        if ttl == _ops.EXPIRED:
            self._spec.codec.encode(made, value)
            return ops.delete(self._spec, made)
        return _ops.set_(self._spec, made, rkey, value, ttl)

    def _get_op(self, key: Any, default: Any, version: int | None) -> Op[Any]:
        made, rkey = self._keyed(key, version)
        return _ops.get(self._spec, made, rkey, default)

    def _get_many_op(
        self, keys: Iterable[Any], version: int | None
    ) -> tuple[Op[dict[Any, Any]], dict[str, Any] | None]:
        """The op, and the Django key -> given key map to apply to its result (if any)."""
        keys = keys if isinstance(keys, list | tuple) else list(keys)
        rkeys = self._keyed_many(keys, version)
        if rkeys is not None:
            return _ops.get_many(self._spec, keys, rkeys, self._label), None
        made = self._made_keys(keys, version)
        rkeys = [self._spec.keys.key(k) for k in made]
        return _ops.get_many(self._spec, list(made), rkeys), made

    def _set_many_op(self, data: Mapping[Any, Any], timeout: Any, version: int | None) -> Op[Any]:
        made = {self._key(k, version): v for k, v in data.items()}
        ttl = self._ms(timeout)
        if ttl == _ops.EXPIRED:
            for k, v in made.items():
                self._spec.codec.encode(k, v)
            return _ops.delete_many(self._spec, list(made))
        return ops.set_many(self._spec, made, ttl)

    def _incr_op(self, key: Any, delta: int, version: int | None) -> Op[int]:
        return ops.incr(self._spec, self._key(key, version), delta, must_exist=True)

    def _version_op(self, key: Any, delta: int, version: int | None) -> tuple[Op[bool], int]:
        version = self.version if version is None else version
        old, new = self._key(key, version), self._key(key, version + delta)
        return _ops.move(self._spec, old, new), version + delta

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Store ``value`` only if ``key`` is absent (``SET NX``); return whether it was stored."""
        return bool(self._run(self._add_op(key, value, timeout, version), False))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """The value, or ``default`` on a miss (a value failing its signature is a miss)."""
        return self._run(self._get_op(key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        """Store ``value`` (``timeout`` 0 or less deletes the key instead)."""
        self._run(self._set_op(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Give ``key`` a new timeout; False if it does not exist."""
        return bool(self._run(self._expire_op(key, timeout, version), False))

    def delete(self, key: Any, version: int | None = None) -> bool:
        """Delete ``key``; return whether it existed."""
        return bool(self._run(ops.delete(self._spec, self._key(key, version)), False))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        """The values of ``keys`` in one round trip (``MGET``); misses are left out."""
        op, made = self._get_many_op(keys, version)
        found = self._run(op, {})
        return found if made is None else {made[k]: v for k, v in found.items()}

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        """Store every item in one round trip; return the keys that failed (always none)."""
        if data:
            self._run(self._set_many_op(data, timeout, version), None)
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        """Delete several keys in one round trip."""
        made = list(self._made_keys(keys, version))
        if made:
            self._run(_ops.delete_many(self._spec, made), None)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        """True if ``key`` is stored (``EXISTS``)."""
        return bool(self._run(_ops.exists(self._spec, self._key(key, version)), False))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Atomically add ``delta``, keeping the TTL; ``ValueError`` if ``key`` is missing."""
        return int(self._run(self._incr_op(key, delta, version)))

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Atomically subtract ``delta``, keeping the TTL; ``ValueError`` if ``key`` is missing."""
        return self.incr(key, -delta, version)

    def incr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Move the value to version ``version + delta`` (atomic ``RENAME``, TTL kept)."""
        op, new_version = self._version_op(key, delta, version)
        if not self._run(op):
            raise ValueError(f"Key {key!r} not found")
        return new_version

    def clear(self) -> None:
        """Delete this cache's keys only (``SCAN`` + ``UNLINK``), never ``FLUSHDB``."""
        self._delete_matching(self._clear_match(), SCAN_COUNT, 0)

    def _clear(self) -> int:
        """:meth:`clear`, returning the number of keys deleted (for the management command)."""
        return self._delete_matching(self._clear_match(), SCAN_COUNT)

    def close(self, **kwargs: Any) -> None:
        """Nothing to do: connections are pooled per process and reused by the next request."""

    async def aadd(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Async :meth:`add`."""
        return bool(await self._arun(self._add_op(key, value, timeout, version), False))

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """Async :meth:`get`."""
        return await self._arun(self._get_op(key, default, version), default)

    async def aset(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        """Async :meth:`set`."""
        await self._arun(self._set_op(key, value, timeout, version), None)

    async def atouch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Async :meth:`touch`."""
        return bool(await self._arun(self._expire_op(key, timeout, version), False))

    async def adelete(self, key: Any, version: int | None = None) -> bool:
        """Async :meth:`delete`."""
        return bool(await self._arun(ops.delete(self._spec, self._key(key, version)), False))

    async def aget_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        """Async :meth:`get_many`."""
        op, made = self._get_many_op(keys, version)
        found = await self._arun(op, {})
        return found if made is None else {made[k]: v for k, v in found.items()}

    async def aset_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        """Async :meth:`set_many`."""
        if data:
            await self._arun(self._set_many_op(data, timeout, version), None)
        return []

    async def adelete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        """Async :meth:`delete_many`."""
        made = list(self._made_keys(keys, version))
        if made:
            await self._arun(_ops.delete_many(self._spec, made), None)

    async def ahas_key(self, key: Any, version: int | None = None) -> bool:
        """Async :meth:`has_key`."""
        return bool(await self._arun(_ops.exists(self._spec, self._key(key, version)), False))

    async def aincr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Async :meth:`incr` (one atomic script, like the sync one)."""
        return int(await self._arun(self._incr_op(key, delta, version)))

    async def adecr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Async :meth:`decr`."""
        return await self.aincr(key, -delta, version)

    async def aincr_version(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Async :meth:`incr_version`."""
        op, new_version = self._version_op(key, delta, version)
        if not await self._arun(op):
            raise ValueError(f"Key {key!r} not found")
        return new_version

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await self._adelete_matching(self._clear_match(), SCAN_COUNT, 0)

    async def aclose(self, **kwargs: Any) -> None:
        """Nothing to do (see :meth:`close`)."""

    @property
    def key_space_prefix(self) -> str:
        """The goscope prefix in front of ``cache:{...}`` (and of this cache's locks)."""
        return self._runtime.prefix

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key_prefix={self.key_prefix!r}, "
            f"goscope_prefix={self._runtime.prefix!r})"
        )


def get_redis_connection(alias: str = "default") -> Any:
    """The process's redis-py client behind cache ``alias`` (django-redis's helper of that name).

    Borrowed: never close it. Keys written through it bypass the cache's key layout.
    """
    from django.core.cache import caches

    cache = caches[alias]
    if not isinstance(cache, RedisCache):
        raise TypeError(f"CACHES[{alias!r}] is not a goscope_redis_django cache")
    return cache._sync_client()
