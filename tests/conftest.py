"""Shared fixtures: a private real redis-server, fakeredis, and one face over sync and async.

The contract suite is written once against a *sync-looking* adapter. For the async face,
:class:`AsyncFace` drives each coroutine to completion on the test's own event loop, so the
very same assertions run against ``AsyncRedisAdapter``. (This bridging is test-only code.)
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis.testing import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One private real redis-server for the whole run."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix per test, so tests never see each other's keys."""
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def sync_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    yield client
    client.close()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


class AsyncFace:
    """Makes an async adapter callable like the sync one (test-only bridge)."""

    is_async = True

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._wrap(attr(*args, **kwargs))

        return call

    def _wrap(self, result: Any) -> Any:
        if inspect.isawaitable(result):
            result = self._loop.run_until_complete(_await(result))
        if hasattr(result, "__aenter__") or type(result).__module__.startswith("goscope_redis"):
            return AsyncFace(result, self._loop) if _needs_face(result) else result
        return result

    def __enter__(self) -> Any:
        return self._wrap(self._target.__aenter__())

    def __exit__(self, *exc: Any) -> Any:
        return self._loop.run_until_complete(self._target.__aexit__(*exc))

    def sleep(self, seconds: float) -> None:
        """Let time pass while the loop runs (so background renewers get to work)."""
        self._loop.run_until_complete(asyncio.sleep(seconds))

    @property
    def unwrapped(self) -> Any:
        return self._target


def _needs_face(obj: Any) -> bool:
    return any(
        inspect.iscoroutinefunction(getattr(type(obj), n, None))
        for n in ("release", "get", "__aenter__")
    )


async def _await(awaitable: Any) -> Any:
    return await awaitable


class SyncFace:
    """The sync adapter, with the same ``sleep`` helper as :class:`AsyncFace`."""

    is_async = False

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    @property
    def unwrapped(self) -> Any:
        return self._target


def make_face(
    mode: str,
    backend: str,
    redis_server: Any,
    prefix: str,
    loop: asyncio.AbstractEventLoop,
    **kwargs: Any,
) -> Any:
    """Build an adapter for one cell of {sync, async} x {real, fake}."""
    if backend == "real":
        assert redis_server is not None
        if mode == "sync":
            return SyncFace(RedisAdapter(redis.Redis(port=redis_server.port), prefix, **kwargs))
        client = redis.asyncio.Redis(port=redis_server.port)
        return AsyncFace(AsyncRedisAdapter(client, prefix, **kwargs), loop)
    import fakeredis

    server = redis_server  # for the fake backend, a shared fakeredis.FakeServer
    if mode == "sync":
        return SyncFace(RedisAdapter(fakeredis.FakeRedis(server=server), prefix, **kwargs))
    return AsyncFace(
        AsyncRedisAdapter(fakeredis.FakeAsyncRedis(server=server), prefix, **kwargs), loop
    )


@pytest.fixture
def fake_server() -> Any:
    import fakeredis

    return fakeredis.FakeServer()


FACES = ["sync-real", "async-real", "sync-fake", "async-fake"]


@pytest.fixture(params=FACES)
def face_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def adapter(
    face_id: str, request: pytest.FixtureRequest, prefix: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Any]:
    """The contract-suite adapter: every test using it runs on all four faces."""
    mode, backend = face_id.split("-")
    server = request.getfixturevalue("redis_server" if backend == "real" else "fake_server")
    face = make_face(mode, backend, server, prefix, loop)
    yield face
    client = face.unwrapped.client
    if mode == "async":
        loop.run_until_complete(client.aclose())
    else:
        client.close()


@pytest.fixture
def factory(face_id: str, request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Any:
    """Build more adapters of the current face (other prefixes, serializers...)."""
    mode, backend = face_id.split("-")
    server = request.getfixturevalue("redis_server" if backend == "real" else "fake_server")
    made: list[Any] = []

    def build(prefix: str, **kwargs: Any) -> Any:
        face = make_face(mode, backend, server, prefix, loop, **kwargs)
        made.append(face)
        return face

    yield build
    for face in made:
        client = face.unwrapped.client
        if mode == "async":
            loop.run_until_complete(client.aclose())
        else:
            client.close()
