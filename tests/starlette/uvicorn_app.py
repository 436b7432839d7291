"""The app the multi-worker uvicorn test serves: ``uvicorn tests.starlette.uvicorn_app:app``.

Configured from the environment (``GOSCOPE_TEST_REDIS_URL``, ``GOSCOPE_TEST_PREFIX``). The
middleware creates its adapter from the URL, so each worker process opens its own connection on
lifespan startup. ``/charge`` counts its runs in Redis, where every worker sees the same count.
"""

from __future__ import annotations

import os

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig

HOLD_S = float(os.environ.get("GOSCOPE_TEST_HOLD_S", "1.0"))


async def charge(request: Request) -> JSONResponse:
    """Count the run in Redis, hold the claim a while, then answer."""
    payload = await request.json()
    run = await request.state.scope.cache.incr("charge-runs")
    await anyio.sleep(HOLD_S)
    return JSONResponse({"run": run, "pid": os.getpid(), "amount": payload["amount"]}, 201)


async def health(request: Request) -> JSONResponse:
    """Readiness, and which worker answered."""
    return JSONResponse({"pid": os.getpid()})


class WorkerHeader:
    """Outermost: tags every response, 409s and replays included, with the worker's pid."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-worker", self.pid)]}
            await send(message)

        await self.app(scope, receive, tagged if scope["type"] == "http" else send)


app = Starlette(
    routes=[Route("/charge", charge, methods=["POST"]), Route("/health", health)],
)
app.add_middleware(
    GoScopeMiddleware,
    url=os.environ.get("GOSCOPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    key_prefix=os.environ.get("GOSCOPE_TEST_PREFIX", "uvicorn-test:"),
    idempotency=IdempotencyConfig(lease=30_000),
)
app.add_middleware(WorkerHeader)
