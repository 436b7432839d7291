"""Run one HTTP request inside its own :class:`~goscope_redis.AsyncScope`.

The scope is bound in the request's own task, around the app, so it is what
``current_scope()`` returns in the handler (and in threadpool handlers, which copy the context),
and it is ``request.state.scope``. Its :class:`RequestWatch` cancels it when the client goes
away mid-request. When the app returns, leaving the scope awaits its tasks and releases the
locks still held. Creating the scope touches no Redis.

On asyncio the scope is deferred (``RequestWatch`` is a
:class:`~goscope_redis.scope._deferred.DeferredScope`): it comes into being the first time the
handler, a disconnect or a dependency asks for it, so a request that never uses it pays for one
small object, not for a scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis.scope import AsyncScope
from goscope_redis.scope._context import CURRENT
from goscope_redis_starlette._asgi import HEADER_NAME, header_value
from goscope_redis_starlette._disconnect import RequestWatch


async def run_in_scope(
    app: ASGIApp, adapter: AsyncRedisAdapter | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Call ``app`` for one HTTP request inside a fresh scope bound to the request."""
    # Reading the first message here (for most requests the whole body, already buffered by
    # the server) lets the watch start at once without racing the app for ``receive``.
    # (The membership test runs in C; _expects_continue only for a request with the header.)
    expect = b"expect" in map(HEADER_NAME, scope["headers"]) and _expects_continue(scope)
    first = None if expect else await receive()
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not asyncio (trio)
        task = None
    if task is None:  # nothing to defer to: enter a real scope up front
        watch = RequestWatch(adapter, None, scope, receive, send, first)
        await _run_entered(app, adapter, scope, watch)
        return
    request = RequestWatch(adapter, task, scope, receive, send, first)
    request.start(task.get_loop())
    scope["state"] = RequestState.of(scope, request)
    token = CURRENT.set(request)
    try:
        await app(scope, request.receive, request.send)
    except BaseException as exc:
        request.stop()
        CURRENT.reset(token)
        if request.scope is None or not await request.close(type(exc), exc, exc.__traceback__):
            raise
    else:
        request.stop()
        CURRENT.reset(token)
        if request.scope is not None:  # the request used its scope: leave it
            await request.close(None, None, None)


async def _run_entered(
    app: ASGIApp, adapter: AsyncRedisAdapter | None, scope: Scope, watch: RequestWatch
) -> None:
    async with AsyncScope(adapter, name=f"{scope['method']} {scope['path']}") as request:
        watch.scope = request
        watch.start(None)
        scope["state"] = RequestState.of(scope, watch)
        try:
            await app(scope, watch.receive, watch.send)
        finally:
            watch.stop()


class RequestState(dict[str, Any]):
    """The request's ``scope["state"]``: the server's state plus ``"scope"``, resolved lazily.

    A new dict per request (one request's scope must never leak into another's). ``"scope"``
    is looked up through :meth:`__missing__`, so a deferred scope is created only when read.
    """

    __slots__ = ("_scope",)

    _scope: RequestWatch

    @classmethod
    def of(cls, scope: Scope, request: RequestWatch) -> RequestState:
        """The state for the ASGI ``scope`` of ``request``."""
        state = scope.get("state")
        # dict's own constructor, no Python __init__: this runs on every request.
        found = cls(state) if state else cls()
        found._scope = request
        return found

    def _request_scope(self) -> AsyncScope:
        return self._scope.resolve()

    def __missing__(self, key: str) -> Any:
        if key == "scope":
            return self._request_scope()
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key == "scope" or super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get``, with ``"scope"`` resolved like ``state["scope"]``."""
        if key == "scope" and not super().__contains__(key):
            return self._request_scope()
        return super().get(key, default)


def _expects_continue(scope: Scope) -> bool:
    # With "Expect: 100-continue" the server sends "100 Continue" on the first receive();
    # reading ahead would invite an upload the app may want to refuse unread.
    value = header_value(scope, b"expect")
    return value is not None and value.lower() == "100-continue"
