"""A pytest plugin for applications that use goscope-redis (registered through ``pytest11``).

Fixtures:

* ``goscope_redis_server`` (session): a private real ``redis-server`` on a free loopback port,
  started on first use (see :class:`goscope_redis.testing.RedisServer`).
* ``goscope_redis_url``: its URL, or ``$GOSCOPE_TEST_REDIS_URL`` to use a Redis you run yourself
  (then no server is started).
* ``goscope_key_prefix``: a fresh, unique key prefix per test.
* ``goscope_adapter`` / ``goscope_async_adapter``: a ``RedisAdapter`` / ``AsyncRedisAdapter`` on
  that server under the test's prefix. Everything under the prefix is deleted afterwards.
* ``goscope_fake_adapter`` / ``goscope_fake_async_adapter``: the same over fakeredis, with no
  server at all; ``goscope_fake_server`` is the ``fakeredis.FakeServer`` they share in a test.

The plugin is loaded by every pytest run in an environment where goscope-redis is installed, so
this module imports nothing heavy and starts nothing until a fixture is requested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
    from goscope_redis.testing import RedisServer

URL_VARIABLE = "GOSCOPE_TEST_REDIS_URL"
_CLEANUP_BATCH = 1000


@pytest.fixture(scope="session")
def goscope_redis_server() -> Iterator[RedisServer]:
    """A private real ``redis-server`` on a free 127.0.0.1 port, for the whole session."""
    from goscope_redis.testing import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def goscope_redis_url(request: pytest.FixtureRequest) -> str:
    """``$GOSCOPE_TEST_REDIS_URL`` if set, else the URL of ``goscope_redis_server``."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    server: RedisServer = request.getfixturevalue("goscope_redis_server")
    return server.url


@pytest.fixture
def goscope_key_prefix() -> str:
    """A key prefix no other test uses (so tests may share one Redis)."""
    return f"goscope-test:{uuid.uuid4().hex[:12]}:"


def _cleanup_pattern(prefix: str) -> str:
    from goscope_redis.keys import glob_escape

    return glob_escape(prefix) + "*"


def delete_prefix(client: Any, prefix: str) -> int:
    """Delete every key under ``prefix`` with ``SCAN`` + ``UNLINK``; return how many."""
    batch: list[Any] = []
    deleted = 0
    for key in client.scan_iter(match=_cleanup_pattern(prefix), count=_CLEANUP_BATCH):
        batch.append(key)
        if len(batch) >= _CLEANUP_BATCH:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


async def adelete_prefix(client: Any, prefix: str) -> int:
    """The async twin of :func:`delete_prefix`."""
    keys = [
        key async for key in client.scan_iter(match=_cleanup_pattern(prefix), count=_CLEANUP_BATCH)
    ]
    deleted = 0
    for start in range(0, len(keys), _CLEANUP_BATCH):
        deleted += await client.unlink(*keys[start : start + _CLEANUP_BATCH])
    return deleted


@pytest.fixture
def goscope_adapter(goscope_redis_url: str, goscope_key_prefix: str) -> Iterator[RedisAdapter]:
    """A ``RedisAdapter`` on the test server under a fresh prefix, cleaned up afterwards."""
    from goscope_redis.adapter import RedisAdapter

    adapter = RedisAdapter.from_url(goscope_redis_url, goscope_key_prefix)
    try:
        yield adapter
    finally:
        delete_prefix(adapter.client, goscope_key_prefix)
        adapter.disconnect()


def _require_asyncio(fixture: str) -> None:
    # redis.asyncio runs on asyncio only; under anyio's trio backend there is no asyncio loop.
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pytest.skip(f"{fixture} needs an asyncio event loop (redis.asyncio does not run on trio)")


@pytest.fixture
async def goscope_async_adapter(
    goscope_redis_url: str, goscope_key_prefix: str
) -> AsyncIterator[AsyncRedisAdapter]:
    """An ``AsyncRedisAdapter`` on the test server under a fresh prefix, cleaned up afterwards.

    An async fixture: use it from ``@pytest.mark.anyio`` tests (anyio ships with goscope-redis)
    or with pytest-asyncio.
    """
    _require_asyncio("goscope_async_adapter")
    from goscope_redis.adapter import AsyncRedisAdapter

    adapter = AsyncRedisAdapter.from_url(goscope_redis_url, goscope_key_prefix)
    try:
        yield adapter
    finally:
        await adelete_prefix(adapter.client, goscope_key_prefix)
        await adapter.disconnect()


def _require_fakeredis() -> Any:
    reason = "the goscope_fake_* fixtures need fakeredis with Lua: pip install 'fakeredis[lua]'"
    fakeredis = pytest.importorskip("fakeredis", reason=reason)
    pytest.importorskip("lupa", reason=reason)
    return fakeredis


@pytest.fixture
def goscope_fake_server() -> Any:
    """A fresh in-memory ``fakeredis.FakeServer``; skips if fakeredis is not installed."""
    return _require_fakeredis().FakeServer()


@pytest.fixture
def goscope_fake_adapter(
    goscope_fake_server: Any, goscope_key_prefix: str
) -> Iterator[RedisAdapter]:
    """A ``RedisAdapter`` over fakeredis (no server needed), cleaned up afterwards."""
    import fakeredis

    from goscope_redis.adapter import RedisAdapter

    client = fakeredis.FakeRedis(server=goscope_fake_server)
    try:
        yield RedisAdapter(client, goscope_key_prefix)
    finally:
        delete_prefix(client, goscope_key_prefix)
        client.close()


@pytest.fixture
async def goscope_fake_async_adapter(
    goscope_fake_server: Any, goscope_key_prefix: str
) -> AsyncIterator[AsyncRedisAdapter]:
    """An ``AsyncRedisAdapter`` over fakeredis (no server needed), cleaned up afterwards."""
    _require_asyncio("goscope_fake_async_adapter")
    import fakeredis

    from goscope_redis.adapter import AsyncRedisAdapter

    client = fakeredis.FakeAsyncRedis(server=goscope_fake_server)
    try:
        yield AsyncRedisAdapter(client, goscope_key_prefix)
    finally:
        await adelete_prefix(client, goscope_key_prefix)
        await client.aclose()
