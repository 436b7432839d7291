"""The HTTP ``Idempotency-Key`` protocol, framework-free and sans-IO.

The Starlette and Django integrations share every rule of the header here; they only move bytes.
Nothing in this module does I/O or imports a web framework. The semantics follow the IETF draft
(``draft-ietf-httpapi-idempotency-key-header``) and Stripe.

Theory of operation
-------------------
One keyed request, as an integration drives it (``idem`` is ``adapter.idempotency``)::

    key = read_key(header_values, header=..., required=...)   # str | Problem | None
    if isinstance(key, Problem): respond(key.response())        # 400, no Redis touched
    if key is None: run the handler as usual                    # no key: zero round trips
    fp = fingerprint(method, path, query, body, content_type)
    claim = await idem.begin(scoped_key(key, principal), fingerprint=fp, lease=...)   # 1 RT
    early = claim_response(claim)      # replay (+ Idempotent-Replayed), 409 or 422
    if early is not None: respond(early) without running the handler
    ... run the handler and capture its response ...
    if should_store(status, len(body), streamed=..., ...):
        await idem.complete(claim, stored_response(status, headers, body).to_value(), ttl)
    else:
        await idem.abandon(claim)      # a retry runs again
        respond with the header ``not_stored_header()`` added
    (a handler that raises: abandon the claim, re-raise)
    (Redis unreachable at ``begin``: answer ``store_unavailable()``, 503; the handler never runs)

Keys are scoped by principal (:func:`scoped_key`) and namespaced under ``http:`` so they never
meet the keys of ``@idempotent``. The stored envelope is plain JSON-friendly data (the body in
base64), so it fits every codec. All error responses are ``application/problem+json``
(RFC 9457), built by :class:`Problem`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from goscope_redis.idempotency_records import Claim

__all__ = [
    "DEFAULT_HEADER",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_KEY_LENGTH",
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "REPLAYED_HEADER",
    "RETRY_IN_PROGRESS_S",
    "STORED_HEADER",
    "TRANSIENT_STATUSES",
    "HTTPResponse",
    "Problem",
    "body_too_large",
    "claim_response",
    "fingerprint",
    "in_progress",
    "invalid_key",
    "mismatch",
    "missing_key",
    "not_stored_header",
    "read_key",
    "scoped_key",
    "should_store",
    "store_unavailable",
    "stored_response",
    "unreadable_record",
]

DEFAULT_HEADER: Final = "Idempotency-Key"
MAX_KEY_LENGTH: Final = 255
DEFAULT_MAX_BODY_BYTES: Final = 1_048_576
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_BASE: Final = "urn:goscope-redis:problem:"
"""Problem ``type`` URIs are this plus a slug (``idempotency-key-missing``...); match on them."""
REPLAYED_HEADER: Final = "Idempotent-Replayed"
STORED_HEADER: Final = "Idempotency-Stored"
RETRY_IN_PROGRESS_S: Final = 1
"""The ``Retry-After`` of a 409: the in-progress request is polled, not waited out."""
TRANSIENT_STATUSES: Final = frozenset({408, 425, 429})
"""Statuses that say "try again later": never stored, or a retry would replay the refusal."""

_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
    | {"upgrade", REPLAYED_HEADER.lower(), STORED_HEADER.lower()}
)
_ENVELOPE_VERSION: Final = 1
Headers = tuple[tuple[str, str], ...]


# --- responses ---------------------------------------------------------------------------------


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


# --- problems (RFC 9457) -----------------------------------------------------------------------


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


# --- the key -----------------------------------------------------------------------------------


def read_key(
    values: Sequence[str], *, header: str = DEFAULT_HEADER, required: bool = False
) -> str | Problem | None:
    """Validate the request's ``header`` values (one entry per header line).

    Returns the key, ``None`` when absent and not ``required``, or a 400 :class:`Problem`: when
    missing but required, or when malformed (several headers, empty, over 255 characters,
    control characters, a broken quoted string). A structured-field string (``"abc"``, as the
    IETF draft writes it) is unquoted, so ``"abc"`` and ``abc`` are the same key. Frameworks that
    fold repeated headers into one comma-joined value (Django's ``META``) pass that one value.
    """
    if not values:
        return missing_key(header) if required else None
    if len(values) > 1:
        return invalid_key(f"Send exactly one {header} header, not {len(values)}.", header)
    key = values[0].strip(" \t")
    if key.startswith('"'):
        unquoted = _unquote(key)
        if unquoted is None:
            return invalid_key(f"{header} is a malformed quoted string.", header)
        key = unquoted
    reason = _key_fault(key)
    return key if reason is None else invalid_key(f"{header} {reason}.", header)


def _key_fault(key: str) -> str | None:
    if not key:
        return "is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters"
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        return "contains control characters"
    return None


def _unquote(text: str) -> str | None:
    """The content of an RFC 8941 string (``\\"`` and ``\\\\`` escapes), or None if malformed."""
    if len(text) < 2 or not text.endswith('"'):
        return None
    out: list[str] = []
    chars = iter(text[1:-1])
    for ch in chars:
        if ch == "\\":
            ch = next(chars, "")
            if ch not in ('"', "\\"):
                return None
        elif ch == '"':
            return None
        out.append(ch)
    return "".join(out)


def scoped_key(key: str, principal: str | None = None) -> str:
    """The idempotency record's key: ``key`` scoped to ``principal`` under ``http:``.

    ``http:-:<key>`` without a principal, ``http:<len>:<principal>:<key>`` with one. The length
    makes it injective: no (principal, key) pair can produce another pair's record key, so two
    users sending the same key never see each other's responses.
    """
    if principal is None:
        return f"http:-:{key}"
    return f"http:{len(principal)}:{principal}:{key}"


# --- the fingerprint ---------------------------------------------------------------------------


def fingerprint(
    method: str,
    path: str,
    query: str | bytes = "",
    body: bytes = b"",
    content_type: str | None = None,
) -> str:
    """The SHA-256 hex digest of what makes two requests "the same".

    It covers the method, the path, the query (its parameters sorted, so their order does not
    matter) and the body. A JSON body (``content_type`` JSON or ``+json``, or unknown) is parsed
    and re-dumped with sorted keys, so reordering its keys or its whitespace does not change the
    digest; any other body is hashed as raw bytes. Each part is length-prefixed.
    """
    digest = hashlib.sha256()
    for part in (
        b"goscope-http-v1",
        method.upper().encode("ascii", "replace"),
        path.encode("utf-8", "surrogatepass"),
        _canonical_query(query),
        *_canonical_body(body, content_type),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _canonical_query(query: str | bytes) -> bytes:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    if not text:
        return b""
    pairs = sorted(parse_qsl(text, keep_blank_values=True))
    return json.dumps(pairs, separators=(",", ":")).encode()


def _canonical_body(body: bytes, content_type: str | None) -> tuple[bytes, bytes]:
    if body and _is_json(content_type):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            pass  # not JSON after all: hash the bytes as sent
        else:
            text = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return b"json", text.encode("utf-8", "surrogatepass")
    return b"raw", bytes(body)


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# --- what a claim means for the request ---------------------------------------------------------


def claim_response(claim: Claim, header: str = DEFAULT_HEADER) -> HTTPResponse | None:
    """The response ``begin()``'s answer calls for, or ``None`` to run the handler.

    ``started``: ``None`` (this request owns the key). ``completed``: the stored response,
    marked ``Idempotent-Replayed: true``. ``in_progress``: 409 with ``Retry-After``.
    ``mismatch``: 422. A record we cannot read gives 500 rather than running again.
    """
    if claim.status == "started":
        return None
    if claim.status == "in_progress":
        return in_progress(claim.retry_after, header).response()
    if claim.status == "mismatch":
        return mismatch(header).response()
    record = claim.record
    if record is None or record.is_error:
        return unreadable_record(header).response()
    try:
        return HTTPResponse.from_value(record.value).replayed()
    except ValueError:
        return unreadable_record(header).response()
