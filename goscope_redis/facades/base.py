"""State shared by the sync and async adapters: client, prefix, codec, key spaces."""

from __future__ import annotations

import logging
from typing import Any

from goscope_redis.codecs import Codec, JSONSerializer, Serializer
from goscope_redis.keys import KeySpace, validate_prefix
from goscope_redis.ops.cache import CacheSpec
from goscope_redis.runner import is_cluster

logger = logging.getLogger("goscope_redis")

_DEFAULT_MAX_BLOCK_S = 5.0


def is_cluster_client(client: Any) -> bool:
    """True for ``redis.cluster.RedisCluster`` and its asyncio twin."""
    return is_cluster(client)


def connection_kwargs(client: Any) -> dict[str, Any]:
    """The connection options of a client's pool (empty for clients without one)."""
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    if kwargs is None:  # RedisCluster keeps them per node
        kwargs = getattr(client, "nodes_manager", None) and client.nodes_manager.connection_kwargs
    return dict(kwargs or {})


class AdapterCore:
    """Configuration common to :class:`RedisAdapter` and :class:`AsyncRedisAdapter`."""

    def __init__(
        self,
        client: Any,
        key_prefix: str = "",
        *,
        serializer: Serializer | None = None,
        max_value_bytes: int | None = None,
        _owns_client: bool = False,
    ) -> None:
        if client is None:
            raise TypeError("client is required; use from_url() to let the adapter create one")
        self._prefix = validate_prefix(key_prefix)
        self._client = client
        self._owns_client = _owns_client
        self._cluster = is_cluster_client(client)
        self._codec = Codec(serializer, max_value_bytes)
        kwargs = connection_kwargs(client)
        if kwargs.get("decode_responses") and not isinstance(
            self._codec.serializer, JSONSerializer
        ):
            raise ValueError(
                f"the {self._codec.serializer.name} serializer needs bytes replies; create the "
                "client with decode_responses=False (the default)"
            )
        timeout = kwargs.get("socket_timeout")
        # A BLPOP must return before the socket times out, or the wait would raise spuriously.
        self._max_block_s = (
            _DEFAULT_MAX_BLOCK_S
            if not timeout
            else max(0.01, min(_DEFAULT_MAX_BLOCK_S, timeout * 0.5))
        )
        self._lock_keys = KeySpace(key_prefix, "lock")
        self._cache = CacheSpec(KeySpace(key_prefix, "cache"), self._codec, self._cluster)

    @property
    def key_prefix(self) -> str:
        """The prefix in front of every key this adapter touches."""
        return self._prefix

    @property
    def client(self) -> Any:
        """The underlying redis-py client (borrowed or owned)."""
        return self._client

    @property
    def owns_client(self) -> bool:
        """True when the adapter created the client (``from_url``) and will close it."""
        return self._owns_client

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key_prefix={self._prefix!r}, owns_client={self._owns_client})"
        )
