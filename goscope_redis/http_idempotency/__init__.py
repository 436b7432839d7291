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

from goscope_redis.http_idempotency._claims import claim_response
from goscope_redis.http_idempotency._constants import (
    DEFAULT_HEADER,
    DEFAULT_MAX_BODY_BYTES,
    MAX_KEY_LENGTH,
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    REPLAYED_HEADER,
    RETRY_IN_PROGRESS_S,
    STORED_HEADER,
    TRANSIENT_STATUSES,
)
from goscope_redis.http_idempotency._fingerprint import fingerprint
from goscope_redis.http_idempotency._key import read_key, scoped_key
from goscope_redis.http_idempotency._problems import (
    Problem,
    body_too_large,
    in_progress,
    invalid_key,
    mismatch,
    missing_key,
    store_unavailable,
    unreadable_record,
)
from goscope_redis.http_idempotency._responses import (
    HTTPResponse,
    not_stored_header,
    should_store,
    stored_response,
)

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
