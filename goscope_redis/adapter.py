"""``RedisAdapter`` and ``AsyncRedisAdapter``: the persistence adapter, sync and async.

Both are composed of the same per-provider facades and have identical public names; a parity
test enforces that. Connection ownership: ``from_url`` creates (and owns) the client; a client
passed in is borrowed and never closed by the adapter.
"""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any

import redis
import redis.asyncio

from goscope_redis import scripts
from goscope_redis.codecs import Serializer
from goscope_redis.facades.cache import AsyncCacheAPI, SyncCacheAPI
from goscope_redis.facades.checkpoint import AsyncCheckpointAPI, SyncCheckpointAPI
from goscope_redis.facades.circuit import AsyncCircuitAPI, SyncCircuitAPI
from goscope_redis.facades.lock import AsyncLockAPI, SyncLockAPI
from goscope_redis.idempotency import AsyncRedisIdempotencyAdapter, RedisIdempotencyAdapter


class RedisAdapter(SyncLockAPI, SyncCacheAPI, SyncCircuitAPI, SyncCheckpointAPI):
    """The sync persistence adapter over ``redis.Redis`` (or ``RedisCluster``, or fakeredis)."""

    @classmethod
    def from_url(
        cls,
        url: str,
        key_prefix: str = "",
        *,
        serializer: Serializer | None = None,
        max_value_bytes: int | None = None,
        cluster: bool = False,
        **client_kwargs: Any,
    ) -> RedisAdapter:
        """Create an adapter that owns a new client for ``url`` (closed by ``disconnect()``)."""
        from redis.cluster import RedisCluster

        factory: Any = RedisCluster if cluster else redis.Redis
        client = factory.from_url(url, **client_kwargs)
        return cls(
            client,
            key_prefix,
            serializer=serializer,
            max_value_bytes=max_value_bytes,
            _owns_client=True,
        )

    @functools.cached_property
    def idempotency(self) -> RedisIdempotencyAdapter:
        """The idempotency provider over the same client, prefix and serializer."""
        return RedisIdempotencyAdapter(
            self._client, self._prefix, serializer=self._codec.serializer
        )

    def connect(self) -> None:
        """Ping the server and preload every script (raises redis-py's errors if unreachable)."""
        self._client.ping()
        for script in scripts.ALL:
            self._client.script_load(script.source)

    def disconnect(self) -> None:
        """Close the client if this adapter created it; a borrowed client is left open."""
        if self._owns_client:
            self._client.close()

    def is_connected(self) -> bool:
        """True if a ``PING`` succeeds now."""
        try:
            return bool(self._client.ping())
        except (redis.RedisError, OSError):
            return False

    def __enter__(self) -> RedisAdapter:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()


class AsyncRedisAdapter(AsyncLockAPI, AsyncCacheAPI, AsyncCircuitAPI, AsyncCheckpointAPI):
    """The async persistence adapter over ``redis.asyncio.Redis``; same names, awaited."""

    @classmethod
    def from_url(
        cls,
        url: str,
        key_prefix: str = "",
        *,
        serializer: Serializer | None = None,
        max_value_bytes: int | None = None,
        cluster: bool = False,
        **client_kwargs: Any,
    ) -> AsyncRedisAdapter:
        """Create an adapter that owns a new client for ``url`` (closed by ``disconnect()``)."""
        from redis.asyncio.cluster import RedisCluster

        factory: Any = RedisCluster if cluster else redis.asyncio.Redis
        client = factory.from_url(url, **client_kwargs)
        return cls(
            client,
            key_prefix,
            serializer=serializer,
            max_value_bytes=max_value_bytes,
            _owns_client=True,
        )

    @functools.cached_property
    def idempotency(self) -> AsyncRedisIdempotencyAdapter:
        """The idempotency provider over the same client, prefix and serializer."""
        return AsyncRedisIdempotencyAdapter(
            self._client, self._prefix, serializer=self._codec.serializer
        )

    async def connect(self) -> None:
        """Ping the server and preload every script (raises redis-py's errors if unreachable)."""
        await self._client.ping()
        for script in scripts.ALL:
            await self._client.script_load(script.source)

    async def disconnect(self) -> None:
        """Close the client if this adapter created it; a borrowed client is left open."""
        if self._owns_client:
            await self._client.aclose()

    async def is_connected(self) -> bool:
        """True if a ``PING`` succeeds now."""
        try:
            return bool(await self._client.ping())
        except (redis.RedisError, OSError):
            return False

    async def __aenter__(self) -> AsyncRedisAdapter:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()
