"""A scope per HTTP request: bound, cancelled on disconnect, closed when the response ends."""

from __future__ import annotations

import asyncio
import gc
import weakref
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from goscope_redis import AsyncRedisAdapter, AsyncScope, current_scope
from goscope_redis.http_idempotency import scoped_key
from goscope_redis.keys import KeySpace
from goscope_redis.scope._deferred import DeferredScope
from goscope_redis.testing import free_port
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig, get_scope
from tests.starlette.apps import LOCK_KEY, Probe, build
from tests.starlette.conftest import AppFactory, client_for

pytestmark = pytest.mark.anyio

Message = dict[str, Any]


async def test_each_request_gets_its_own_bound_scope(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    first = (await client.get("/whoami")).json()
    second = (await client.get("/whoami")).json()
    assert (
        first
        == second
        == {
            "bound": True,
            "state": True,
            "name": "GET /whoami",
            "persistence": True,
        }
    )
    one, two = probe.scopes
    assert isinstance(one, AsyncScope) and one is not two
    assert current_scope() is None  # nothing leaks out of the request


async def test_scope_without_persistence_when_no_adapter(framework: str, probe: Probe) -> None:
    async with client_for(build(framework, probe, None)) as client:
        body = (await client.get("/whoami")).json()
    assert body["bound"] and body["state"] and body["persistence"] is False


async def test_locks_still_held_are_released_when_the_response_ends(
    client: httpx.AsyncClient, raw: redis.Redis, prefix: str
) -> None:
    response = await client.post("/lock")
    assert response.json()["token"] >= 1
    assert not raw.exists(KeySpace(prefix, "lock").key(LOCK_KEY))
    again = await client.post("/lock")  # free again, so the next request gets it at once
    assert again.json()["token"] > response.json()["token"]


async def test_spawned_tasks_are_awaited_before_the_request_ends(
    client: httpx.AsyncClient, aadapter: AsyncRedisAdapter
) -> None:
    response = await client.post("/spawn")
    assert response.status_code == 202
    assert await aadapter.get("spawned") is True


async def test_get_scope_fails_clearly_without_the_middleware() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    with pytest.raises(RuntimeError, match="GoScopeMiddleware"):
        await get_scope(request)


async def test_sync_endpoint_in_the_threadpool_sees_the_request_scope() -> None:
    seen: list[bool] = []

    def endpoint(request: Request) -> PlainTextResponse:
        seen.append(current_scope() is request.state.scope)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(GoScopeMiddleware)
    async with client_for(app) as client:
        assert (await client.get("/")).text == "ok"
    assert seen == [True]


async def test_a_request_that_never_asks_for_its_scope_creates_none() -> None:
    watches: list[Any] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        watches.append(request.scope["state"]._scope)  # the request's RequestWatch
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(GoScopeMiddleware)
    async with client_for(app) as client:
        assert (await client.get("/")).text == "ok"
    (watch,) = watches
    if watch._task is not None:  # asyncio: deferred, and never created (trio enters one)
        assert watch.scope is None


async def test_the_deferred_scope_of_a_finished_request_cannot_be_created() -> None:
    async def request() -> None:
        pass

    task = asyncio.get_running_loop().create_task(request())
    done = DeferredScope(None, task, "GET", "/over")
    await task
    with pytest.raises(RuntimeError, match="'GET /over' is over"):
        done.resolve()
    gone = DeferredScope(None, asyncio.get_running_loop().create_task(request()), "GET", "/")
    await asyncio.sleep(0)  # it runs, ends, and nothing holds it (the deferred's link is weak)
    gc.collect()
    assert gone._task is not None and gone._task() is None
    with pytest.raises(RuntimeError, match="is over"):
        gone.resolve()


async def test_the_request_scope_is_one_object_however_it_is_reached() -> None:
    seen: list[object] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        state = request.scope["state"]
        assert "scope" in state
        seen.extend([current_scope(), request.state.scope, state.get("scope")])
        seen.append(await get_scope(request))
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(GoScopeMiddleware)
    async with client_for(app) as client:
        assert (await client.get("/")).text == "ok"
    assert isinstance(seen[0], AsyncScope) and all(found is seen[0] for found in seen)


async def test_a_handler_failure_still_leaves_a_scope_it_used() -> None:
    cleaned: list[bool] = []

    async def cleanup() -> None:
        try:
            await anyio.sleep(10)
        finally:
            cleaned.append(True)

    async def endpoint(request: Request) -> PlainTextResponse:
        scope = current_scope()
        assert isinstance(scope, AsyncScope)
        scope.spawn(cleanup)
        await anyio.sleep(0)
        raise ValueError("handler failed")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(GoScopeMiddleware)
    async with client_for(app, raise_app_exceptions=False) as client:
        assert (await client.get("/")).status_code == 500
    assert cleaned == [True]  # the spawned task was cancelled and awaited, not leaked


# --- disconnect ---


class Connection:
    """Drives an ASGI app like a server would, with a client that can hang up."""

    def __init__(self, body: bytes = b"{}", headers: list[tuple[bytes, bytes]] | None = None):
        self.body = body
        self.headers = headers or []
        self.hang_up = anyio.Event()
        self.sent: list[Message] = []
        self._delivered = False

    def scope(self, method: str, path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }

    async def receive(self) -> Message:
        if not self._delivered:
            self._delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def call_and_hang_up(
    app: Any, probe: Probe, connection: Connection, delay: float = 0.0
) -> None:
    """Call ``app`` on ``/hang``; once the handler started (and ``delay`` s later), hang up."""
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                app, connection.scope("POST", "/hang"), connection.receive, connection.send
            )
            await probe.started.wait()
            await anyio.sleep(delay)
            assert probe.cancelled == []
            connection.hang_up.set()


@pytest.mark.parametrize("delay", [0.0, 0.1], ids=["at-once", "after-watch-started"])
async def test_client_disconnect_cancels_the_request_scope(
    framework: str, probe: Probe, delay: float
) -> None:
    connection = Connection()
    await call_and_hang_up(build(framework, probe, None), probe, connection, delay)
    assert sorted(probe.cancelled) == ["child", "handler"]
    (request_scope,) = probe.scopes
    assert request_scope.cancelled
    assert connection.sent == []  # nobody left to answer


async def test_disconnect_of_a_keyed_request_releases_its_key(
    make_app: AppFactory, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    connection = Connection(headers=[(b"idempotency-key", b"hang-1")])
    await call_and_hang_up(make_app(), probe, connection)
    assert sorted(probe.cancelled) == ["child", "handler"]
    assert not raw.exists(KeySpace(prefix, "idempotency").key(scoped_key("hang-1")))


async def test_disconnect_after_the_response_does_not_cancel_spawned_work(
    aadapter: AsyncRedisAdapter,
) -> None:
    finished: list[str] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        async def background() -> None:
            await anyio.sleep(0.1)
            finished.append("background")

        request.state.scope.spawn(background)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    app.add_middleware(GoScopeMiddleware, adapter=aadapter)
    connection = Connection()

    async def send(message: Message) -> None:
        connection.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            connection.hang_up.set()  # the connection ends right after the response

    with anyio.fail_after(10):
        await app(connection.scope("POST", "/"), connection.receive, send)
    assert finished == ["background"]
    assert connection.sent[0]["status"] == 200


async def test_app_waiting_in_receive_after_the_body_sees_the_disconnect_and_is_cancelled(
    probe: Probe,
) -> None:
    seen: list[str] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        await request.body()
        assert not await request.is_disconnected()  # a poll must not steal the watch's message
        probe.started.set()
        try:
            seen.append((await request.receive())["type"])
            await anyio.sleep(5)  # the scope is cancelled: this is where it lands
        finally:
            probe.cancelled.append("handler")
        return PlainTextResponse("unreachable")  # pragma: no cover

    app = Starlette(routes=[Route("/hang", endpoint, methods=["POST"])])
    app.add_middleware(GoScopeMiddleware)
    connection = Connection()
    await call_and_hang_up(app, probe, connection)
    assert seen == ["http.disconnect"]
    assert probe.cancelled == ["handler"]
    assert connection.sent == []


async def test_disconnect_is_noticed_by_the_watch_while_the_app_is_busy(probe: Probe) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        await request.body()
        probe.started.set()
        try:
            await anyio.sleep(5)  # busy, not reading: only the watch can notice
        finally:
            probe.cancelled.append("handler")
        return PlainTextResponse("unreachable")  # pragma: no cover

    app = Starlette(routes=[Route("/hang", endpoint, methods=["POST"])])
    app.add_middleware(GoScopeMiddleware)
    connection = Connection()
    await call_and_hang_up(app, probe, connection)
    assert probe.cancelled == ["handler"]


async def test_client_gone_before_the_app_starts_cancels_the_scope_at_once(probe: Probe) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        probe.ran("endpoint")
        await anyio.sleep(5)
        return PlainTextResponse("unreachable")  # pragma: no cover

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    app.add_middleware(GoScopeMiddleware)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(2):
        await app(Connection().scope("POST", "/"), receive, send)
    assert sent == []


async def test_streamed_request_body_is_delivered_in_order_with_backpressure() -> None:
    chunks = [b"a" * 10, b"b" * 10, b"c" * 10]
    pulled: list[int] = []
    got: list[bytes] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        async for chunk in request.stream():
            got.append(chunk)
            await anyio.sleep(0.01)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    app.add_middleware(GoScopeMiddleware)
    done = anyio.Event()
    index = 0

    async def receive() -> Message:
        nonlocal index
        if index < len(chunks):
            index += 1
            pulled.append(len(got))  # how many chunks the app had when the next was read
            return {"type": "http.request", "body": chunks[index - 1], "more_body": True}
        if index == len(chunks):
            index += 1
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            done.set()

    with anyio.fail_after(10):
        await app(Connection().scope("POST", "/"), receive, send)
    assert b"".join(got) == b"".join(chunks)
    assert pulled == [0, 1, 2]  # never more than one chunk read ahead


# --- zero round trips without a key ---


def round_trips(raw: redis.Redis) -> int:
    """Request reads the server has processed (one per round trip), this INFO included."""
    return int(raw.info("stats")["total_reads_processed"])


async def test_requests_without_key_cost_zero_round_trips(
    client: httpx.AsyncClient, raw: redis.Redis, probe: Probe
) -> None:
    await client.post("/orders", json={})  # warm up: connection, imports
    before = round_trips(raw)
    for _ in range(5):
        await client.post("/orders", json={"a": 1})
        await client.get("/whoami")
        await client.put("/orders", json={}, headers={"Idempotency-Key": "ignored-for-put"})
    assert round_trips(raw) - before - 1 == 0
    assert probe.calls == {"orders": 11, "whoami": 5}


async def test_keyed_request_costs_two_round_trips_and_replay_one(
    client: httpx.AsyncClient, raw: redis.Redis
) -> None:
    await client.post("/orders", json={}, headers={"Idempotency-Key": "warm"})
    before = round_trips(raw)
    await client.post("/orders", json={}, headers={"Idempotency-Key": "k"})
    middle = round_trips(raw)
    replay = await client.post("/orders", json={}, headers={"Idempotency-Key": "k"})
    after = round_trips(raw)
    assert replay.headers["idempotent-replayed"] == "true"
    assert (middle - before - 1, after - middle - 1) == (2, 1)


# --- non-HTTP scopes and lifespan ---


async def test_websocket_passes_through_without_a_scope(aadapter: AsyncRedisAdapter) -> None:
    seen: list[Any] = []

    async def ws_endpoint(websocket: WebSocket) -> None:
        seen.append((current_scope(), websocket.scope.get("state", {}).get("scope")))
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", ws_endpoint)])
    app.add_middleware(GoScopeMiddleware, adapter=aadapter, idempotency=IdempotencyConfig())
    messages: list[Message] = []
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    await app(scope, receive, send)
    assert seen == [(None, None)]
    assert [m["type"] for m in messages] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]


async def run_lifespan(app: Any) -> list[str]:
    """Start and stop ``app``'s lifespan; return the messages it sent."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    try:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    except Exception:
        pass  # a failed startup is reported in `sent`; Starlette re-raises it as well
    return sent


def lifespan_app(record: list[str], **middleware: Any) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        record.append("app startup")
        yield
        record.append("app shutdown")

    app = Starlette(lifespan=lifespan)
    app.add_middleware(GoScopeMiddleware, **middleware)
    return app


async def test_adapter_created_from_url_opens_on_startup_and_closes_on_shutdown(
    redis_server: Any, prefix: str, raw: redis.Redis
) -> None:
    record: list[str] = []
    app = lifespan_app(record, url=redis_server.url, key_prefix=prefix)
    clients_before = len(raw.client_list())
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []
    during: list[int] = []

    async def receive() -> Message:
        if len(incoming) == 1:  # the app has started: the adapter must be connected now
            during.append(len(raw.client_list()))
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert record == ["app startup", "app shutdown"]
    assert during == [clients_before + 1]
    assert len(raw.client_list()) == clients_before


async def test_unreachable_redis_fails_the_startup() -> None:
    record: list[str] = []
    app = lifespan_app(record, url=f"redis://127.0.0.1:{free_port()}/0")
    sent = await run_lifespan(app)
    assert sent == ["lifespan.startup.failed"]
    assert record == []


async def test_borrowed_adapter_is_left_alone_by_the_lifespan(
    aadapter: AsyncRedisAdapter,
) -> None:
    record: list[str] = []
    app = lifespan_app(record, adapter=aadapter)
    sent = await run_lifespan(app)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert await aadapter.is_connected()


async def test_url_middleware_serves_keyed_requests(
    redis_server: Any, prefix: str, framework: str, probe: Probe
) -> None:
    app = build(framework, probe, None)
    app.user_middleware.clear()
    app.add_middleware(
        GoScopeMiddleware,
        url=redis_server.url,
        key_prefix=prefix,
        idempotency=IdempotencyConfig(),
    )
    async with client_for(app) as client:
        for _ in range(2):
            await client.post("/orders", json={}, headers={"Idempotency-Key": "u"})
    assert probe.calls == {"orders": 1}
    middleware = app.middleware_stack
    while not isinstance(middleware, GoScopeMiddleware):
        middleware = middleware.app  # type: ignore[attr-defined]
    assert middleware.adapter is not None
    await middleware.adapter.disconnect()


class _Connection:
    """What a server passes per request: its receive and send hold the ASGI scope (as
    uvicorn's do), so a link from the scope back to them would make a cycle."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {
            "type": "http",
            "method": "POST",
            "path": "/orders",
            "headers": [(b"content-type", b"application/json")],
            "state": {},
        }

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(self, message: Message) -> None:
        pass


async def test_a_finished_request_is_freed_without_the_garbage_collector() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = GoScopeMiddleware(app)
    connection = _Connection()
    await middleware(connection.scope, connection.receive, connection.send)
    gone = weakref.ref(connection)
    gc.disable()  # reference counting alone must free it: a cycle would wait for a collection
    try:
        del connection
        assert gone() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("expect", "reads"),
    [(b"100-continue", 0), (b"100-Continue", 0), (b"something-else", 1), (None, 1)],
)
async def test_expect_100_continue_is_not_read_ahead(expect: bytes | None, reads: int) -> None:
    # The server answers "100 Continue" on the first receive(): an app that refuses the upload
    # unread (here 413 at once) must not have it invited by the middleware reading ahead.
    received: list[Message] = []

    async def receive() -> Message:
        received.append({"type": "http.request", "body": b"{}", "more_body": False})
        return received[-1]

    async def send(message: Message) -> None:
        pass

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    headers = [(b"content-length", b"2")] + ([] if expect is None else [(b"expect", expect)])
    scope = {"type": "http", "method": "PUT", "path": "/upload", "headers": headers}
    await GoScopeMiddleware(app)(scope, receive, send)
    assert len(received) == reads
