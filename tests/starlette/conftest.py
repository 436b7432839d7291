"""Fixtures of the Starlette/FastAPI tests: an async adapter, both frameworks, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter
from goscope_redis_starlette import IdempotencyConfig
from tests.starlette.apps import Probe, build


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture(params=["starlette", "fastapi"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def aadapter(redis_server: Any, prefix: str) -> AsyncIterator[AsyncRedisAdapter]:
    client = redis.asyncio.Redis(port=redis_server.port)
    yield AsyncRedisAdapter(client, prefix)
    await client.aclose()


@pytest.fixture
def raw(redis_server: Any) -> Iterator[redis.Redis]:
    """A separate client to look at what is really in Redis."""
    client = redis.Redis(port=redis_server.port)
    yield client
    client.close()


@pytest.fixture
def probe() -> Probe:
    return Probe()


AppFactory = Callable[..., Any]


@pytest.fixture
def make_app(framework: str, probe: Probe, aadapter: AsyncRedisAdapter) -> AppFactory:
    """``make_app(**config)``: the app with the middleware and ``IdempotencyConfig(**config)``."""

    def make(**config: Any) -> Any:
        return build(framework, probe, aadapter, IdempotencyConfig(**config))

    return make


def client_for(app: Any, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    """An httpx client that calls ``app`` in-process."""
    transport = httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with the default ``IdempotencyConfig()``."""
    async with client_for(make_app()) as http:
        yield http
