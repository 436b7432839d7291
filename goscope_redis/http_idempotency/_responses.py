"""Stored responses: the envelope kept in Redis and the decision to store one."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from goscope_redis.http_idempotency._constants import (
    _ENVELOPE_VERSION,
    _HOP_BY_HOP,
    DEFAULT_MAX_BODY_BYTES,
    REPLAYED_HEADER,
    STORED_HEADER,
    TRANSIENT_STATUSES,
    Headers,
)


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    """A complete response: ``status``, ``headers`` (latin-1 ``str`` pairs, order kept), ``body``.

    It is what gets stored and replayed, and what the problem builders produce; an integration
    turns it into its framework's response.
    """

    status: int
    headers: Headers
    body: bytes

    def with_header(self, name: str, value: str) -> HTTPResponse:
        """A copy with one more header."""
        return HTTPResponse(self.status, (*self.headers, (name, value)), self.body)

    def replayed(self) -> HTTPResponse:
        """A copy marked ``Idempotent-Replayed: true`` (what a replay sends)."""
        return self.with_header(REPLAYED_HEADER, "true")

    def to_value(self) -> dict[str, Any]:
        """The envelope stored in Redis: JSON-friendly, the body in base64."""
        return {
            "v": _ENVELOPE_VERSION,
            "status": self.status,
            "headers": [[name, value] for name, value in self.headers],
            "body": base64.b64encode(self.body).decode("ascii"),
        }

    @classmethod
    def from_value(cls, value: Any) -> HTTPResponse:
        """Rebuild a stored envelope; ``ValueError`` if it is not one of ours."""
        try:
            if value["v"] != _ENVELOPE_VERSION:
                raise ValueError(f"unknown envelope version {value['v']!r}")
            status = value["status"]
            headers = tuple((str(n), str(v)) for n, v in value["headers"])
            body = base64.b64decode(value["body"].encode("ascii"), validate=True)
        except (KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise ValueError(f"not a stored HTTP response: {exc!r}") from exc
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"not a stored HTTP response: bad status {status!r}")
        return cls(status, headers, body)


def stored_response(
    status: int, headers: Iterable[tuple[str | bytes, str | bytes]], body: bytes
) -> HTTPResponse:
    """The response to store: hop-by-hop headers (and our own markers) are dropped.

    Header names and values may be ``bytes`` (ASGI) or ``str`` (Django); bytes are read as
    latin-1, which round-trips every byte.
    """
    kept = tuple(
        (_text(name), _text(value))
        for name, value in headers
        if _text(name).lower() not in _HOP_BY_HOP
    )
    return HTTPResponse(status, kept, bytes(body))


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def should_store(
    status: int,
    body_size: int,
    *,
    streamed: bool = False,
    store_server_errors: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> bool:
    """Whether a finished response is stored for replay.

    Not stored: a streamed response (more than one body message), one over ``max_body_bytes``,
    a transient refusal (408, 425, 429) and, unless ``store_server_errors``, any 5xx. The caller
    then abandons the claim, so a retry runs the handler again, and marks the response with
    :func:`not_stored_header`.
    """
    if streamed or body_size > max_body_bytes or status in TRANSIENT_STATUSES:
        return False
    return status < 500 or store_server_errors


def not_stored_header() -> tuple[str, str]:
    """``Idempotency-Stored: false``: this keyed response was not stored; a retry re-runs."""
    return (STORED_HEADER, "false")
