"""Tie an adapter the middleware created to the app's lifespan: open on startup, close on shutdown.

The app's own lifespan still runs: the adapter is connected (``PING`` and script preload) when
``lifespan.startup`` arrives, before the app sees it, and disconnected after the app reports
``lifespan.shutdown.complete`` (or ``failed``). A Redis that cannot be reached at startup fails
the startup, so a wrong URL is reported at once rather than on the first keyed request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goscope_redis.adapter import AsyncRedisAdapter

_SHUTDOWN_DONE = frozenset({"lifespan.shutdown.complete", "lifespan.shutdown.failed"})


async def run_lifespan(
    app: ASGIApp, adapter: AsyncRedisAdapter, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the app's lifespan with ``adapter`` opened and closed around it."""
    failed = False

    async def receive_and_connect() -> Message:
        nonlocal failed
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await adapter.connect()
            except Exception as exc:
                failed = True
                reason = f"goscope_redis: cannot connect to Redis: {exc!r}"
                await send({"type": "lifespan.startup.failed", "message": reason})
                raise
        return message

    async def send_and_disconnect(message: Message) -> None:
        if failed:
            return  # the failure is reported already; a server accepts one answer
        if message["type"] in _SHUTDOWN_DONE:
            try:
                await adapter.disconnect()
            finally:
                await send(message)
            return
        await send(message)

    await app(scope, receive_and_connect, send_and_disconnect)
