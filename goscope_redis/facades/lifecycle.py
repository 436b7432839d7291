"""Connection lifecycle shared by every adapter: ``from_url``, ``connect``, ``disconnect``.

Ownership rule: ``from_url`` creates (and owns) the client; a client passed to the constructor
is borrowed, and ``disconnect()`` never closes it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import redis
import redis.asyncio

from goscope_redis import scripts
from goscope_redis.codecs import Serializer
from goscope_redis.facades.base import AdapterCore


def client_from_url(url: str, *, cluster: bool, is_async: bool, **kwargs: Any) -> Any:
    """A new redis-py client (standalone or Cluster, sync or async) for ``url``."""
    if is_async:
        from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster

        factory: Any = AsyncRedisCluster if cluster else redis.asyncio.Redis
    else:
        from redis.cluster import RedisCluster

        factory = RedisCluster if cluster else redis.Redis
    return factory.from_url(url, **kwargs)


class SyncLifecycle(AdapterCore):
    """Lifecycle of an adapter over a synchronous client."""

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
    ) -> Self:
        """Create an adapter that owns a new client for ``url`` (closed by ``disconnect()``)."""
        client = client_from_url(url, cluster=cluster, is_async=False, **client_kwargs)
        return cls(
            client, key_prefix, serializer=serializer, max_value_bytes=max_value_bytes,
            _owns_client=True,
        )  # fmt: skip

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

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()


class AsyncLifecycle(AdapterCore):
    """Lifecycle of an adapter over a ``redis.asyncio`` client; same names, awaited."""

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
    ) -> Self:
        """Create an adapter that owns a new client for ``url`` (closed by ``disconnect()``)."""
        client = client_from_url(url, cluster=cluster, is_async=True, **client_kwargs)
        return cls(
            client, key_prefix, serializer=serializer, max_value_bytes=max_value_bytes,
            _owns_client=True,
        )  # fmt: skip

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

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()
