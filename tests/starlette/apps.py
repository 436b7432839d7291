"""The same small app built twice, on Starlette and on FastAPI, for the middleware tests.

Every endpoint records what happened in a :class:`Probe`, so tests can tell whether the handler
ran, was cancelled, and which scope it saw.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from goscope_redis import AsyncRedisAdapter, AsyncScope, current_scope
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig, get_scope

LOCK_KEY = "orders:42"


@dataclass
class Probe:
    """What the handlers saw and did."""

    calls: dict[str, int] = field(default_factory=dict)
    scopes: list[Any] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    started: anyio.Event = field(default_factory=anyio.Event)
    release: anyio.Event = field(default_factory=anyio.Event)
    bodies: list[bytes] = field(default_factory=list)

    def ran(self, name: str) -> int:
        self.calls[name] = self.calls.get(name, 0) + 1
        return self.calls[name]


Handler = Callable[[Request, AsyncScope, Probe], Awaitable[Response]]


async def orders(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    n = probe.ran("orders")
    payload = await request.json() if await request.body() else None
    headers = {"X-Order": str(n), "Set-Cookie": f"order={n}"}
    body = {"n": n, "body": payload, "query": str(request.query_params)}
    return JSONResponse(body, status_code=201, headers=headers)


async def echo(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("echo")
    body = await request.body()
    probe.bodies.append(body)
    media = request.headers.get("content-type", "application/octet-stream")
    return Response(body, media_type=media)


async def slow(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("slow")
    probe.started.set()
    await probe.release.wait()
    return PlainTextResponse("done", status_code=201)


async def boom(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("boom")
    raise RuntimeError("handler failed")


async def server_error(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    n = probe.ran("server_error")
    return PlainTextResponse(f"failure {n}", status_code=int(request.query_params.get("s", 500)))


async def stream(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    n = probe.ran("stream")

    async def chunks() -> Any:
        for i in range(3):
            yield f"chunk {i} of run {n};".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def big(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    n = probe.ran("big")
    size = int(request.query_params.get("size", "0"))
    return PlainTextResponse(str(n % 10) * size)


async def whoami(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.scopes.append(scope)
    probe.ran("whoami")
    return JSONResponse(
        {
            "bound": current_scope() is scope,
            "state": request.state.scope is scope,
            "name": scope.name,
            "persistence": scope.persistence is not None,
        }
    )


async def hold_lock(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("lock")
    handle = await scope.lock(LOCK_KEY, ttl=30_000).__aenter__()  # never exited: the scope must
    return JSONResponse({"token": handle.fencing_token})


async def spawn(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("spawn")

    async def later() -> None:
        await anyio.sleep(0.05)
        await scope.cache.set("spawned", True)

    scope.spawn(later)
    return PlainTextResponse("spawned", status_code=202)


async def hang(request: Request, scope: AsyncScope, probe: Probe) -> Response:
    probe.ran("hang")
    probe.scopes.append(scope)

    async def child() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            probe.cancelled.append("child")

    scope.spawn(child)
    probe.started.set()
    try:
        await anyio.sleep_forever()
    finally:
        probe.cancelled.append("handler")
    return PlainTextResponse("unreachable")  # pragma: no cover


ROUTES: dict[str, tuple[str, Handler]] = {
    "/orders": ("POST", orders),
    "/echo": ("POST", echo),
    "/slow": ("POST", slow),
    "/boom": ("POST", boom),
    "/server-error": ("POST", server_error),
    "/stream": ("POST", stream),
    "/big": ("POST", big),
    "/whoami": ("GET", whoami),
    "/lock": ("POST", hold_lock),
    "/spawn": ("POST", spawn),
    "/hang": ("POST", hang),
}


def starlette_app(probe: Probe) -> Starlette:
    """The routes as plain Starlette endpoints, reading ``request.state.scope``."""

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def call(request: Request) -> Response:
            return await handler(request, request.state.scope, probe)

        return call

    routes = [Route(path, endpoint(h), methods=[m]) for path, (m, h) in ROUTES.items()]
    routes.append(Route("/orders", endpoint(orders), methods=["PATCH", "PUT"]))
    return Starlette(routes=routes)


def fastapi_app(probe: Probe) -> FastAPI:
    """The routes as FastAPI path operations, getting the scope with ``Depends(get_scope)``."""
    app = FastAPI()

    def add(path: str, method: str, handler: Handler) -> None:
        async def call(request: Request, scope: Annotated[AsyncScope, Depends(get_scope)]) -> Any:
            return await handler(request, scope, probe)

        app.add_api_route(path, call, methods=[method], response_model=None)

    for path, (method, handler) in ROUTES.items():
        add(path, method, handler)
    add("/orders", "PATCH", orders)
    add("/orders", "PUT", orders)
    return app


def build(
    framework: str,
    probe: Probe,
    adapter: AsyncRedisAdapter | None,
    idempotency: IdempotencyConfig | None = None,
) -> Starlette:
    """The app of ``framework`` with ``GoScopeMiddleware`` installed."""
    app = starlette_app(probe) if framework == "starlette" else fastapi_app(probe)
    app.add_middleware(GoScopeMiddleware, adapter=adapter, idempotency=idempotency)
    return app
