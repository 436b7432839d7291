"""The records of the idempotency provider: a stored result and the outcome of a claim."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ClaimStatus = Literal["started", "in_progress", "completed", "mismatch"]


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A finished call's stored result.

    ``is_error`` tells a stored failure from a success, so a failure is never replayed as a
    successful result. ``expires_at`` is epoch ms on the Redis clock (``None``: no expiry).
    """

    value: Any
    expires_at: int | None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer of ``begin()``.

    * ``"started"``: this caller owns the key (``owner``) and must ``complete`` or ``abandon``.
    * ``"in_progress"``: another caller is running; ``retry_after`` is its remaining lease (ms).
    * ``"completed"``: ``record`` holds the stored result (check ``record.is_error``).
    * ``"mismatch"``: the key was used with a different fingerprint.
    """

    status: ClaimStatus
    key: str
    owner: str | None = None
    fingerprint: str | None = None
    record: IdempotencyRecord | None = None
    retry_after: int | None = None
