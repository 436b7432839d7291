"""Constants of the Idempotency-Key protocol."""

from __future__ import annotations

from typing import Final

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
