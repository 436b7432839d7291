"""``RedisAdapter`` and ``AsyncRedisAdapter``: the persistence adapter, sync and async.

Both are composed of the same per-provider facades and have identical public names; a parity
test enforces that. Connection ownership: ``from_url`` creates (and owns) the client; a client
passed in is borrowed and never closed by the adapter.
"""

from __future__ import annotations

import functools

from goscope_redis.facades.cache import AsyncCacheAPI, SyncCacheAPI
from goscope_redis.facades.checkpoint import AsyncCheckpointAPI, SyncCheckpointAPI
from goscope_redis.facades.circuit import AsyncCircuitAPI, SyncCircuitAPI
from goscope_redis.facades.lifecycle import AsyncLifecycle, SyncLifecycle
from goscope_redis.facades.lock import AsyncLockAPI, SyncLockAPI
from goscope_redis.idempotency import AsyncRedisIdempotencyAdapter, RedisIdempotencyAdapter


class RedisAdapter(SyncLifecycle, SyncLockAPI, SyncCacheAPI, SyncCircuitAPI, SyncCheckpointAPI):
    """The sync persistence adapter over ``redis.Redis`` (or ``RedisCluster``, or fakeredis)."""

    @functools.cached_property
    def idempotency(self) -> RedisIdempotencyAdapter:
        """The idempotency provider over the same client, prefix and serializer."""
        return RedisIdempotencyAdapter(
            self._client, self._prefix, serializer=self._codec.serializer,
            max_value_bytes=self._codec.max_value_bytes,
        )  # fmt: skip


class AsyncRedisAdapter(
    AsyncLifecycle, AsyncLockAPI, AsyncCacheAPI, AsyncCircuitAPI, AsyncCheckpointAPI
):
    """The async persistence adapter over ``redis.asyncio.Redis``; same names, awaited."""

    @functools.cached_property
    def idempotency(self) -> AsyncRedisIdempotencyAdapter:
        """The idempotency provider over the same client, prefix and serializer."""
        return AsyncRedisIdempotencyAdapter(
            self._client, self._prefix, serializer=self._codec.serializer,
            max_value_bytes=self._codec.max_value_bytes,
        )  # fmt: skip
