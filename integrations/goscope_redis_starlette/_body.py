"""Buffer a keyed request's body (the fingerprint needs all of it), then replay it to the app."""

from __future__ import annotations

import enum

from starlette.types import Message, Receive, Scope

from goscope_redis_starlette._asgi import header_value


class BodyFault(enum.Enum):
    """Why no body came back: the client went away, or the body is over the limit."""

    DISCONNECTED = "disconnected"
    TOO_LARGE = "too large"


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | BodyFault:
    """The whole request body, or why not (a declared ``Content-Length`` over ``limit`` is
    refused before reading anything)."""
    declared = header_value(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        return BodyFault.TOO_LARGE
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return BodyFault.DISCONNECTED
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return BodyFault.TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered ``body`` as one message, then defers to ``receive``
    (which has only the disconnect left to say)."""
    pending = True

    async def receive_replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_replayed
