"""Contract fixtures beyond the adapter: the idempotency adapter of the same face."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from goscope_redis import AsyncRedisIdempotencyAdapter, RedisIdempotencyAdapter
from tests.conftest import AsyncFace, SyncFace


@pytest.fixture
def idem(adapter: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """An idempotency adapter sharing the contract adapter's client, prefix and face."""
    inner = adapter.unwrapped
    if adapter.is_async:
        return AsyncFace(AsyncRedisIdempotencyAdapter(inner.client, inner.key_prefix), loop)
    return SyncFace(RedisIdempotencyAdapter(inner.client, inner.key_prefix))


@pytest.fixture
def raw(face_id: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A plain sync client on the face's server, to assert what is really stored."""
    if face_id.endswith("-real"):
        client: Any = redis.Redis(port=request.getfixturevalue("redis_server").port)
    else:
        import fakeredis

        client = fakeredis.FakeRedis(server=request.getfixturevalue("fake_server"))
    yield client
    client.close()
