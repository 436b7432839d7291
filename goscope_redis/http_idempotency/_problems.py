"""Error answers as RFC 9457 problem+json."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from goscope_redis.http_idempotency._constants import (
    DEFAULT_HEADER,
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    RETRY_IN_PROGRESS_S,
    Headers,
)
from goscope_redis.http_idempotency._responses import HTTPResponse


@dataclass(frozen=True, slots=True)
class Problem:
    """An ``application/problem+json`` error: ``status``, ``title``, ``detail``, ``type``."""

    status: int
    title: str
    detail: str
    type: str
    headers: Headers = ()

    def body(self) -> bytes:
        """The JSON document (``type``, ``title``, ``status``, ``detail``)."""
        doc = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        return json.dumps(doc, separators=(",", ":")).encode()

    def response(self) -> HTTPResponse:
        """The complete response, with ``Content-Type: application/problem+json``."""
        body = self.body()
        headers = (
            ("Content-Type", PROBLEM_CONTENT_TYPE),
            ("Content-Length", str(len(body))),
            *self.headers,
        )
        return HTTPResponse(self.status, headers, body)


def missing_key(header: str = DEFAULT_HEADER) -> Problem:
    """400: the endpoint requires the header and the request has none."""
    return Problem(
        400,
        f"{header} is missing",
        f"This request must carry an {header} header (a unique value per operation).",
        PROBLEM_TYPE_BASE + "idempotency-key-missing",
    )


def invalid_key(reason: str, header: str = DEFAULT_HEADER) -> Problem:
    """400: the header is malformed (``reason`` says how)."""
    return Problem(
        400, f"{header} is invalid", reason, PROBLEM_TYPE_BASE + "idempotency-key-invalid"
    )


def in_progress(retry_after_ms: int | None, header: str = DEFAULT_HEADER) -> Problem:
    """409 with ``Retry-After``: the first request with this key is still running.

    ``retry_after_ms`` is the claim's remaining lease: only an upper bound (the key is free by
    then even if its worker died), so it goes into the detail, while ``Retry-After`` asks for
    ``RETRY_IN_PROGRESS_S`` (at most the remaining lease): most requests finish well within it.
    """
    lease_s = max(1, math.ceil((retry_after_ms or 0) / 1000))
    seconds = min(RETRY_IN_PROGRESS_S, lease_s)
    return Problem(
        409,
        "Request in progress",
        f"A request with this {header} is still being processed; retry in {seconds} s "
        f"(its claim ends within {lease_s} s at the latest).",
        PROBLEM_TYPE_BASE + "idempotency-request-in-progress",
        (("Retry-After", str(seconds)),),
    )


def mismatch(header: str = DEFAULT_HEADER) -> Problem:
    """422: the key was already used with a different method, path, query or body."""
    return Problem(
        422,
        f"{header} reused with a different request",
        f"This {header} was already used for a request with a different method, path, query "
        "or body. Use a new key for a new operation.",
        PROBLEM_TYPE_BASE + "idempotency-key-reused",
    )


def body_too_large(limit: int, header: str = DEFAULT_HEADER) -> Problem:
    """413: a keyed request's body is over the limit it is buffered (and fingerprinted) under."""
    return Problem(
        413,
        "Request body too large",
        f"A request with an {header} may carry at most {limit} bytes of body.",
        PROBLEM_TYPE_BASE + "idempotency-body-too-large",
    )


def store_unavailable(header: str = DEFAULT_HEADER, retry_after_s: int = 1) -> Problem:
    """503 with ``Retry-After``: Redis could not be asked, so the request was not run (fail
    closed: never run a keyed request unprotected)."""
    return Problem(
        503,
        "Idempotency store unavailable",
        f"The request was not run because its {header} could not be checked; retry later.",
        PROBLEM_TYPE_BASE + "idempotency-store-unavailable",
        (("Retry-After", str(retry_after_s)),),
    )


def unreadable_record(header: str = DEFAULT_HEADER) -> Problem:
    """500: the stored record is not a response we wrote; fail closed, never re-run."""
    return Problem(
        500,
        "Stored response unreadable",
        f"The response stored for this {header} cannot be read; it was not replayed and the "
        "request was not run again.",
        PROBLEM_TYPE_BASE + "idempotency-record-unreadable",
    )
