"""The idempotency decisions a task makes, without I/O: wait, replay, or run.

The loops that call ``begin`` live in the sync and async task runners; this module decides what
each ``Claim`` means. A duplicate polls ``begin`` (one round trip) with a doubling pause, so when
the first caller's lease runs out because its process died, the next poll takes the key over.
"""

from __future__ import annotations

import time
from typing import Any, Final

from goscope_redis.errors import (
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
)
from goscope_redis.idempotency_records import Claim
from goscope_redis.scope._options import Idempotency

_FIRST_POLL_S: Final = 0.01
_MAX_POLL_S: Final = 0.25


class ClaimPoller:
    """Tracks one caller's wait for a key that another caller is running."""

    __slots__ = ("_deadline", "_delay", "_options")

    def __init__(self, options: Idempotency) -> None:
        self._options = options
        wait = options.wait_ms
        self._deadline = None if wait is None else time.monotonic() + wait / 1000
        self._delay = _FIRST_POLL_S

    def pause(self, claim: Claim) -> float | None:
        """Seconds to sleep before asking again, or ``None`` when ``claim`` is final.

        Raises ``IdempotencyMismatchError``, or ``IdempotencyInProgressError`` once ``wait`` is
        used up.
        """
        key = self._options.key
        if claim.status == "mismatch":
            raise IdempotencyMismatchError(key)
        if claim.status != "in_progress":
            return None
        if self._options.wait_ms == 0:
            raise IdempotencyInProgressError(key, claim.retry_after)
        delay = self._delay
        self._delay = min(self._delay * 2, _MAX_POLL_S)
        if claim.retry_after is not None:
            # Ask again no later than when the holder's lease would run out.
            delay = min(delay, max(claim.retry_after, 1) / 1000)
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise IdempotencyInProgressError(key, claim.retry_after)
            delay = min(delay, left)
        return delay


def replay(claim: Claim) -> Any:
    """The stored result of a completed claim; a stored failure raises."""
    record = claim.record
    assert record is not None, "a completed claim carries its record"
    if record.is_error:
        stored = record.value if isinstance(record.value, dict) else {}
        raise IdempotencyStoredError(
            claim.key, str(stored.get("type", "Exception")), str(stored.get("message", ""))
        )
    return record.value


def error_envelope(error: BaseException) -> dict[str, str]:
    """How a failure is stored (``store_errors=True``); the ``@idempotent`` decorator agrees."""
    kind = type(error)
    return {"type": f"{kind.__module__}.{kind.__qualname__}", "message": str(error)}
