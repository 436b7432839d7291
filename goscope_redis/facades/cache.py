"""Cache provider facades. Values are JSON unless another serializer is configured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from goscope_redis.durations import optional_ms
from goscope_redis.facades.base import AdapterCore
from goscope_redis.ops import cache as ops
from goscope_redis.runner import run_async, run_sync


class SyncCacheAPI(AdapterCore):
    """A key-prefixed cache with millisecond TTLs (sync)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` on a miss. A stored ``None`` is a hit."""
        return run_sync(ops.get(self._cache, key, default), self._client)

    def _get_with_ttl(self, key: str, default: Any = None) -> tuple[Any, int]:
        return run_sync(ops.get_with_ttl(self._cache, key, default), self._client)

    def set(self, key: str, value: Any, ttl: Any = None) -> None:
        """Store ``value``; ``ttl`` in ms (``None``: no expiry)."""
        run_sync(ops.set_(self._cache, key, value, optional_ms(ttl)), self._client)

    def add(self, key: str, value: Any, ttl: Any = None) -> bool:
        """Store ``value`` only if ``key`` is absent; return whether it was stored."""
        return run_sync(ops.add(self._cache, key, value, optional_ms(ttl)), self._client)

    def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it existed."""
        return run_sync(ops.delete(self._cache, key), self._client)

    def has(self, key: str) -> bool:
        """True if ``key`` is cached."""
        return run_sync(ops.has(self._cache, key), self._client)

    def incr(self, key: str, delta: int = 1) -> int:
        """Atomically add ``delta`` (a missing key counts from 0; the TTL is kept)."""
        return run_sync(ops.incr(self._cache, key, delta), self._client)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``keys`` in one round trip; misses are left out."""
        return run_sync(ops.get_many(self._cache, keys), self._client)

    def set_many(self, mapping: Mapping[str, Any], ttl: Any = None) -> None:
        """Store every item in one round trip; nothing is written if any value is invalid."""
        run_sync(ops.set_many(self._cache, mapping, optional_ms(ttl)), self._client)

    def keys(self, pattern: str | None = None) -> list[str]:
        """User keys (without prefix) matching the glob ``pattern``; uses ``SCAN``."""
        return run_sync(ops.keys(self._cache, pattern), self._client)

    def clear(self) -> int:
        """Delete this adapter's cache keys only (``SCAN`` + ``UNLINK``); return the count."""
        return run_sync(ops.clear(self._cache), self._client)

    def delete_pattern(self, pattern: str) -> int:
        """Delete this adapter's cache keys whose user key matches the glob ``pattern``."""
        return run_sync(ops.clear(self._cache, pattern), self._client)


class AsyncCacheAPI(AdapterCore):
    """A key-prefixed cache with millisecond TTLs (async). Same names as the sync API."""

    async def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` on a miss. A stored ``None`` is a hit."""
        return await run_async(ops.get(self._cache, key, default), self._client)

    async def _get_with_ttl(self, key: str, default: Any = None) -> tuple[Any, int]:
        return await run_async(ops.get_with_ttl(self._cache, key, default), self._client)

    async def set(self, key: str, value: Any, ttl: Any = None) -> None:
        """Store ``value``; ``ttl`` in ms (``None``: no expiry)."""
        await run_async(ops.set_(self._cache, key, value, optional_ms(ttl)), self._client)

    async def add(self, key: str, value: Any, ttl: Any = None) -> bool:
        """Store ``value`` only if ``key`` is absent; return whether it was stored."""
        return await run_async(ops.add(self._cache, key, value, optional_ms(ttl)), self._client)

    async def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it existed."""
        return await run_async(ops.delete(self._cache, key), self._client)

    async def has(self, key: str) -> bool:
        """True if ``key`` is cached."""
        return await run_async(ops.has(self._cache, key), self._client)

    async def incr(self, key: str, delta: int = 1) -> int:
        """Atomically add ``delta`` (a missing key counts from 0; the TTL is kept)."""
        return await run_async(ops.incr(self._cache, key, delta), self._client)

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``keys`` in one round trip; misses are left out."""
        return await run_async(ops.get_many(self._cache, keys), self._client)

    async def set_many(self, mapping: Mapping[str, Any], ttl: Any = None) -> None:
        """Store every item in one round trip; nothing is written if any value is invalid."""
        await run_async(ops.set_many(self._cache, mapping, optional_ms(ttl)), self._client)

    async def keys(self, pattern: str | None = None) -> list[str]:
        """User keys (without prefix) matching the glob ``pattern``; uses ``SCAN``."""
        return await run_async(ops.keys(self._cache, pattern), self._client)

    async def clear(self) -> int:
        """Delete this adapter's cache keys only (``SCAN`` + ``UNLINK``); return the count."""
        return await run_async(ops.clear(self._cache), self._client)

    async def delete_pattern(self, pattern: str) -> int:
        """Delete this adapter's cache keys whose user key matches the glob ``pattern``."""
        return await run_async(ops.clear(self._cache, pattern), self._client)
