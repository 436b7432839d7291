from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from goscope_redis import AsyncRedisAdapter, RedisAdapter, configure
from goscope_redis.config import reset


@pytest.fixture
def sync_adapter(redis_server, prefix) -> Iterator[RedisAdapter]:
    adapter = RedisAdapter.from_url(redis_server.url, prefix)
    yield adapter
    adapter.disconnect()


@pytest.fixture
def raw(redis_server) -> Iterator[redis.Redis]:
    client = redis.Redis(port=redis_server.port)
    yield client
    client.close()


@pytest.fixture
def configured(redis_server, prefix) -> Iterator[str]:
    """Configure the process default to the test server and prefix."""
    configure(url=redis_server.url, key_prefix=prefix)
    yield prefix
    reset()


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def async_adapter_factory(redis_server, prefix):
    def make() -> AsyncRedisAdapter:
        return AsyncRedisAdapter.from_url(redis_server.url, prefix)

    return make
