"""Small ASGI helpers: read request headers, send a complete response, encode headers."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from starlette.types import Message, Scope, Send

from goscope_redis.http_idempotency import HTTPResponse

RawHeaders = list[tuple[bytes, bytes]]

HEADER_NAME = itemgetter(0)
"""The name of an ASGI header pair: ``name in map(HEADER_NAME, scope["headers"])`` tests for a
header in C, with no Python loop (it runs on every request)."""


def header_values(scope: Scope, name: bytes) -> list[str]:
    """Every value of header ``name`` (lowercase bytes), one entry per header line."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def header_value(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name``, or ``None``."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def encode_headers(headers: Iterable[tuple[str, str]]) -> RawHeaders:
    """``str`` pairs as ASGI wants them: lowercase names, latin-1 bytes."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def with_header(start: Message, name: str, value: str) -> Message:
    """A copy of an ``http.response.start`` message with one more header."""
    headers = [*start.get("headers", ()), *encode_headers([(name, value)])]
    return {**start, "headers": headers}


async def send_response(send: Send, response: HTTPResponse) -> None:
    """Send ``response`` as one start and one body message."""
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": encode_headers(response.headers),
        }
    )
    await send({"type": "http.response.body", "body": response.body, "more_body": False})
