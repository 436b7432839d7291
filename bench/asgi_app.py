"""The Starlette app the ASGI bench measures, bare or behind ``GoScopeMiddleware``.

In-process cases call :func:`build` directly; the uvicorn cases serve
``asgi_app:app_from_env`` (``--factory``), configured by ``GOSCOPE_BENCH_MODE`` (``bare`` or
``middleware``), ``GOSCOPE_BENCH_REDIS_URL`` and ``GOSCOPE_BENCH_PREFIX``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

# The integrations live next to the core in this checkout, not on the path run.py sets up.
_INTEGRATIONS = str(Path(__file__).resolve().parent.parent / "integrations")
if _INTEGRATIONS not in sys.path:
    sys.path.append(_INTEGRATIONS)

from goscope_redis import AsyncRedisAdapter  # noqa: E402
from goscope_redis.scope._context import CURRENT  # noqa: E402
from goscope_redis.scope._deferred import DeferredScope  # noqa: E402
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig  # noqa: E402

BODY = b'{"sku": "widget-42", "qty": 2}'
IDEMPOTENCY = IdempotencyConfig(ttl=600_000)


async def orders(request: Request) -> JSONResponse:
    """A typical small JSON endpoint: parse the body, answer 201."""
    payload = await request.json()
    return JSONResponse({"ok": True, "qty": payload["qty"]}, status_code=201)


async def health(request: Request) -> PlainTextResponse:
    """Readiness probe for the uvicorn runs."""
    return PlainTextResponse("ok")


def build(
    adapter: AsyncRedisAdapter | None = None, *, url: str | None = None, prefix: str = ""
) -> Starlette:
    """The app; with ``adapter`` or ``url`` it runs behind the middleware (idempotency on)."""
    app = Starlette(routes=[Route("/orders", orders, methods=["POST"]), Route("/health", health)])
    if adapter is not None:
        app.add_middleware(GoScopeMiddleware, adapter=adapter, idempotency=IDEMPOTENCY)
    elif url is not None:
        app.add_middleware(GoScopeMiddleware, url=url, key_prefix=prefix, idempotency=IDEMPOTENCY)
    return app


async def _layer_only(app, adapter, scope, receive, send):  # type: ignore[no-untyped-def]
    await app(scope, receive, send)


async def _bind_only(app, adapter, scope, receive, send):  # type: ignore[no-untyped-def]
    """The least a request scope can cost: a deferred scope, bound in the context variable."""
    task = asyncio.current_task()
    deferred = DeferredScope(adapter, task, scope["method"], scope["path"])
    token = CURRENT.set(deferred)
    try:
        await app(scope, receive, send)
    finally:
        CURRENT.reset(token)


async def _bind_and_wrap(app, adapter, scope, receive, send):  # type: ignore[no-untyped-def]
    """``_bind_only`` plus the least a disconnect watch needs: the first message read ahead
    and the app's ``receive``/``send`` wrapped (closures; no watcher, no sweeper, no state)."""
    pending = await receive()
    complete = False

    async def app_receive():  # type: ignore[no-untyped-def]
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    def app_send(message):  # type: ignore[no-untyped-def]
        nonlocal complete
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            complete = True
        return send(message)

    await _bind_only(app, adapter, scope, app_receive, app_send)


STAND_INS = {"layer": _layer_only, "bind": _bind_only, "wrap": _bind_and_wrap}
"""Bench-only replacements for the middleware's per-request scope (``run_in_scope``): each is
a step of the ASGI floor study (``study_asgi_floor.py``)."""


def app_from_env() -> Starlette:
    """The uvicorn factory: bare, or with the middleware on the bench's Redis.

    ``layer`` is the middleware with its request scope and disconnect watch taken out (the
    app called straight from the key check): the floor of any pure-ASGI layer there, so the
    bench can show what the scope and the watch themselves cost. ``bind`` and ``wrap`` are
    the further steps of :data:`STAND_INS`.

    ``GOSCOPE_BENCH_WATCH_AFTER_S`` overrides when the disconnect watcher starts: under valgrind
    (``instructions.py``) a request runs ~50x slower and would outlive the usual 20 ms, so it
    would start a watcher that the same request at full speed never starts.
    """
    watch_after = os.environ.get("GOSCOPE_BENCH_WATCH_AFTER_S")
    if watch_after:
        import goscope_redis_starlette._disconnect as disconnect

        disconnect.WATCH_AFTER_S = float(watch_after)
    mode = os.environ.get("GOSCOPE_BENCH_MODE", "bare")
    if mode == "bare":
        return build()
    if mode in STAND_INS:
        import goscope_redis_starlette.middleware as middleware

        middleware.run_in_scope = STAND_INS[mode]  # type: ignore[assignment]
    return build(
        url=os.environ["GOSCOPE_BENCH_REDIS_URL"], prefix=os.environ["GOSCOPE_BENCH_PREFIX"]
    )
