"""Round trips per operation, as promised in performance.md ("Round trips"), sync and async.

Counted on the client: the adapter's client uses a connection class that counts every request it
writes (``send_packed_command``: one per command, one per pipeline), and each request waits for
its reply, so requests are round trips. This is more robust here than diffing the server's
``INFO stats``: the session's redis-server is shared with the rest of the run (lock renewers and
other background work of earlier tests may still talk to it), and commands a Lua script runs
never reach the client, so they cannot be miscounted. Every script is preloaded and every
connection opened before counting, so the figures are the steady state.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from goscope_redis import AsyncRedisAdapter, Checkpoint, RedisAdapter, cached, scripts
from goscope_redis.testing import RedisServer
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig

VALUE = {"id": 42, "name": "widget", "tags": ["a", "b"]}
MANY = {f"item:{i}": {"n": i} for i in range(10)}


class Sends:
    """How many requests the counting connections have written."""

    def __init__(self) -> None:
        self.count = 0


def _sync_client(url: str, sends: Sends) -> redis.Redis:
    class CountingConnection(redis.Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            sends.count += 1
            super().send_packed_command(command, check_health)

    pool = redis.ConnectionPool.from_url(url, connection_class=CountingConnection)
    return redis.Redis(connection_pool=pool)


def _async_client(url: str, sends: Sends) -> redis.asyncio.Redis:
    class CountingConnection(redis.asyncio.Connection):
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            sends.count += 1
            await super().send_packed_command(command, check_health)

    pool = redis.asyncio.ConnectionPool.from_url(url, connection_class=CountingConnection)
    return redis.asyncio.Redis(connection_pool=pool)


class Face:
    """One adapter (sync or async) and a way to count the round trips of a call on it."""

    def __init__(self, adapter: Any, sends: Sends, loop: asyncio.AbstractEventLoop) -> None:
        self.adapter = adapter
        self.sends = sends
        self.loop = loop
        self.is_async = isinstance(adapter, AsyncRedisAdapter)

    def do(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn()``, awaiting its result on the test's loop if it is awaitable."""
        result = fn()
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(_await(result))
        return result

    def trips(self, fn: Callable[[], Any]) -> tuple[int, Any]:
        """(round trips, result) of ``fn()``."""
        before = self.sends.count
        result = self.do(fn)
        return self.sends.count - before, result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _preload_scripts(redis_server: RedisServer) -> None:
    with redis.Redis.from_url(redis_server.url) as plain:
        for script in scripts.ALL:
            plain.script_load(script.source)


@contextmanager
def _face(
    kind: str, redis_server: RedisServer, prefix: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Face]:
    _preload_scripts(redis_server)
    sends = Sends()
    if kind == "sync":
        client = _sync_client(redis_server.url, sends)
        client.ping()  # open the connection (its handshake is not the operation's cost)
        yield Face(RedisAdapter(client, key_prefix=prefix), sends, loop)
        client.close()
    else:
        aclient = _async_client(redis_server.url, sends)
        loop.run_until_complete(aclient.ping())
        yield Face(AsyncRedisAdapter(aclient, key_prefix=prefix), sends, loop)
        loop.run_until_complete(aclient.aclose())


@pytest.fixture(params=["sync", "async"])
def face(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    prefix: str,
    loop: asyncio.AbstractEventLoop,
) -> Iterator[Face]:
    with _face(request.param, redis_server, prefix, loop) as made:
        yield made


@pytest.fixture
def async_face(
    redis_server: RedisServer, prefix: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Face]:
    with _face("async", redis_server, prefix, loop) as made:
        yield made


def test_cache_get_and_set_take_one_round_trip_each(face: Face) -> None:
    cache = face.adapter
    assert face.trips(lambda: cache.set("user:42", VALUE, ttl=60_000))[0] == 1
    assert face.trips(lambda: cache.get("user:42")) == (1, VALUE)
    assert face.trips(lambda: cache.get("absent")) == (1, None)


def test_get_many_and_set_many_take_one_round_trip(face: Face) -> None:
    cache = face.adapter
    assert face.trips(lambda: cache.set_many(MANY))[0] == 1
    assert face.trips(lambda: cache.set_many(MANY, ttl=60_000))[0] == 1
    assert face.trips(lambda: cache.get_many([*MANY, "absent"])) == (1, MANY)


def test_lock_acquire_and_release_take_one_round_trip_each(face: Face) -> None:
    trips, handle = face.trips(lambda: face.adapter.acquire("orders:42", 10_000))
    assert trips == 1 and handle is not None
    assert face.trips(handle.release) == (1, True)


def test_closed_breaker_call_takes_at_most_one_round_trip(face: Face) -> None:
    breaker = face.adapter.circuit_breaker("payments", failure_threshold=5)
    work: Callable[[], Any] = _async_ok if face.is_async else _ok
    for _ in range(3):  # every closed call, not only the first
        trips, result = face.trips(lambda: breaker.call(work))
        assert trips <= 1 and result == 1


def _ok() -> int:
    return 1


async def _async_ok() -> int:
    return 1


def test_idempotent_request_takes_two_round_trips_first_and_one_on_replay(face: Face) -> None:
    idem = face.adapter.idempotency
    trips, claim = face.trips(lambda: idem.begin("charge:7", lease=30_000))
    assert (trips, claim.status) == (1, "started")
    assert face.trips(lambda: idem.complete(claim, VALUE, 60_000)) == (1, True)
    trips, replay = face.trips(lambda: idem.begin("charge:7", lease=30_000))
    assert (trips, replay.status) == (1, "completed")


def test_checkpoint_save_and_load_latest_take_one_round_trip_each(face: Face) -> None:
    adapter = face.adapter
    for seq in (1, 2, 3):
        cp = Checkpoint("import", seq, {"row": seq * 100}, progress=seq * 10.0)
        assert face.trips(lambda cp=cp: adapter.save_checkpoint(cp))[0] == 1
    trips, latest = face.trips(lambda: adapter.load_latest_checkpoint("import"))
    assert trips == 1 and latest is not None and latest.sequence == 3


def test_cached_hit_takes_one_round_trip(face: Face) -> None:
    if face.is_async:

        @cached(ttl=60_000, adapter=face.adapter)
        async def load(item_id: int) -> dict[str, Any]:
            return VALUE

    else:

        @cached(ttl=60_000, adapter=face.adapter)
        def load(item_id: int) -> dict[str, Any]:
            return VALUE

    face.do(lambda: load(7))  # the miss fills the cache
    assert face.trips(lambda: load(7)) == (1, VALUE)


# --- the Starlette middleware (async only) ----------------------------------------------------


async def _orders(request: Request) -> JSONResponse:
    payload = await request.json()
    return JSONResponse({"qty": payload["qty"]}, status_code=201)


@pytest.fixture
def http(async_face: Face) -> Iterator[Callable[..., tuple[int, int]]]:
    """``http(headers)``: POST /orders through GoScopeMiddleware; (round trips, status)."""
    face = async_face
    app = Starlette(routes=[Route("/orders", _orders, methods=["POST"])])
    app.add_middleware(
        GoScopeMiddleware, adapter=face.adapter, idempotency=IdempotencyConfig(ttl=60_000)
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    def post(headers: dict[str, str] | None = None) -> tuple[int, int]:
        request = client.post("/orders", json={"qty": 2}, headers=headers or {})
        trips, response = face.trips(lambda: request)
        return trips, response.status_code

    yield post
    face.loop.run_until_complete(client.aclose())


def test_middleware_request_without_idempotency_key_takes_no_round_trip(
    http: Callable[..., tuple[int, int]],
) -> None:
    assert http() == (0, 201)
    assert http() == (0, 201)


def test_middleware_idempotent_request_takes_two_round_trips_then_one_on_replay(
    http: Callable[..., tuple[int, int]],
) -> None:
    key = {"Idempotency-Key": "order-7"}
    assert http(key) == (2, 201)
    assert http(key) == (1, 201)
