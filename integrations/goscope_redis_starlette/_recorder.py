"""``ResponseRecorder``: the app's ``send`` for a request that holds an idempotency claim.

It holds back ``http.response.start`` until the first body message shows what the response is.
A complete response (one body message) that :func:`should_store` accepts is stored *before* the
client sees it, so a retry that arrives after the response always replays it. Anything else (a
stream, an oversized body, a 5xx, a store that failed) is passed through marked
``Idempotency-Stored: false``; the gate then abandons the claim.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import Message, Send

from goscope_redis.http_idempotency import (
    HTTPResponse,
    not_stored_header,
    should_store,
    stored_response,
)
from goscope_redis_starlette._asgi import with_header


class ResponseRecorder:
    """Wraps ``send``; ``store(response)`` persists a storable response and says if it did."""

    __slots__ = ("_limit", "_passing", "_send", "_server_errors", "_start", "_store", "stored")

    def __init__(
        self,
        send: Send,
        store: Callable[[HTTPResponse], Awaitable[bool]],
        *,
        store_server_errors: bool,
        max_body_bytes: int,
    ) -> None:
        self._send = send
        self._store = store
        self._server_errors = store_server_errors
        self._limit = max_body_bytes
        self._start: Message | None = None
        self._passing = False
        self.stored = False

    async def send(self, message: Message) -> None:
        """The ``send`` handed to the app."""
        if self._passing:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            self._start = message
            return
        start = self._start
        if start is None:  # not a response we understand: leave it alone
            self._passing = True
            await self._send(message)
            return
        self._passing = True  # judged once, on the first body message
        if not await self._stored(start, message):
            start = with_header(start, *not_stored_header())
        await self._send(start)
        await self._send(message)

    async def _stored(self, start: Message, message: Message) -> bool:
        """Store the response if it is complete and storable; return whether it was stored."""
        complete = (
            message["type"] == "http.response.body"
            and not message.get("more_body", False)
            and not start.get("trailers", False)
        )
        if not complete:
            return False  # a stream, or an extension (pathsend...) we cannot capture
        status, body = int(start["status"]), bytes(message.get("body", b""))
        if not should_store(
            status, len(body), store_server_errors=self._server_errors, max_body_bytes=self._limit
        ):
            return False
        self.stored = await self._store(stored_response(status, start.get("headers", ()), body))
        return self.stored
