"""Run one HTTP request inside its own :class:`~goscope_redis.AsyncScope`.

The scope is entered in the request's own task, around the app, so it is what
``current_scope()`` returns in the handler (and in threadpool handlers, which copy the context),
and it is put in ``request.state.scope``. A :class:`DisconnectWatch` cancels it when the client
goes away mid-request. When the app returns, leaving the scope awaits its tasks and releases the
locks still held. Creating the scope touches no Redis.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis.scope import AsyncScope
from goscope_redis_starlette._disconnect import DisconnectWatch


async def run_in_scope(
    app: ASGIApp, adapter: AsyncRedisAdapter | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Call ``app`` for one HTTP request inside a fresh scope bound to the request."""
    # Reading the first message here (for most requests the whole body, already buffered by
    # the server) lets the watch start at once without racing the app for ``receive``.
    first = None if _expects_continue(scope) else await receive()
    watch = DisconnectWatch(receive, first)

    async def send_noting_end(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            watch.response_done()
        await send(message)

    try:
        async with AsyncScope(adapter, name=f"{scope['method']} {scope['path']}") as request:
            watch.on_disconnect = request.cancel
            watch.start()
            state = scope.get("state")
            # A new state dict: one request's scope must never leak into another's.
            scope["state"] = {**state, "scope": request} if state else {"scope": request}
            await app(scope, watch.receive, send_noting_end)
    finally:
        watch.stop()


def _expects_continue(scope: Scope) -> bool:
    # With "Expect: 100-continue" the server sends "100 Continue" on the first receive();
    # reading ahead would invite an upload the app may want to refuse unread.
    for name, value in scope["headers"]:
        if name == b"expect":
            return bool(value.lower() == b"100-continue")
    return False
