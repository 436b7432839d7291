"""Scope fixtures: the anyio backends, and adapters built inside the running event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, RedisAdapter


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Structured-concurrency tests run on both backends (``@pytest.mark.anyio``)."""
    return str(request.param)


@pytest.fixture
async def aadapter(redis_server: Any, prefix: str) -> AsyncIterator[AsyncRedisAdapter]:
    """An async adapter on the real server (asyncio only: redis.asyncio needs it)."""
    client = redis.asyncio.Redis(port=redis_server.port)
    yield AsyncRedisAdapter(client, prefix)
    await client.aclose()


@pytest.fixture
def sadapter(redis_server: Any, prefix: str) -> Iterator[RedisAdapter]:
    """A sync adapter on the real server."""
    client = redis.Redis(port=redis_server.port)
    yield RedisAdapter(client, prefix)
    client.close()


@pytest.fixture
def raw(redis_server: Any) -> Iterator[redis.Redis]:
    """Another client, to look at (or tamper with) what is really stored."""
    client = redis.Redis(port=redis_server.port)
    yield client
    client.close()
