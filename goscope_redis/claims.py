"""The idempotency decisions a caller makes, without I/O: wait, replay, or run.

Shared by ``@idempotent`` and by scope tasks. The loops that call ``begin`` live in their sync
and async runners; this module decides what each ``Claim`` means. A duplicate polls ``begin``
(one round trip) with a doubling pause, so when the first caller's lease runs out because its
process died, the next poll takes the key over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from goscope_redis.errors import (
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
)
from goscope_redis.idempotency_records import Claim

logger = logging.getLogger("goscope_redis")

_FIRST_POLL_S: Final = 0.01
_MAX_POLL_S: Final = 0.25


class ClaimPoller:
    """Tracks one caller's wait for a key that another caller is running."""

    __slots__ = ("_deadline", "_delay", "_key", "_wait_ms")

    def __init__(self, key: str, wait_ms: int | None) -> None:
        self._key = key
        self._wait_ms = wait_ms
        self._deadline = None if wait_ms is None else time.monotonic() + wait_ms / 1000
        self._delay = _FIRST_POLL_S

    def pause(self, claim: Claim) -> float | None:
        """Seconds to sleep before asking again, or ``None`` when ``claim`` is final.

        Raises ``IdempotencyMismatchError``, or ``IdempotencyInProgressError`` once ``wait`` is
        used up.
        """
        key = self._key
        if claim.status == "mismatch":
            raise IdempotencyMismatchError(key)
        if claim.status != "in_progress":
            return None
        if self._wait_ms == 0:
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


# A call running longer than its lease would let a duplicate take the key over and run the
# work twice, so the runner keeps the claim alive: the sync side on the adapter's renewal
# thread, the async side with one small task per running call.


class ClaimLease:
    """Adapts a claim to the renewer's lease interface (``key``, ``ttl``, ``extend``)."""

    __slots__ = ("_idem", "claim", "key", "lost", "ttl")

    def __init__(self, idem: Any, claim: Claim, lease_ms: int) -> None:
        self._idem = idem
        self.claim = claim
        self.key = claim.key
        self.ttl = lease_ms
        self.lost = False

    def extend(self) -> bool:
        """Reset the claim's lease (sync idempotency adapter)."""
        return bool(self._idem.extend(self.claim, self.ttl))

    def _mark_lost(self, on_lost: Any) -> None:
        self.lost = True
        logger.warning(
            "goscope_redis: idempotency claim %r was taken over while its call still ran",
            self.key,
        )


async def keep_alive(idem: Any, claim: Claim, lease_ms: int) -> None:
    """Extend the claim every third of its lease until cancelled or lost."""
    while True:
        await asyncio.sleep(lease_ms / 3000)
        if not await idem.extend(claim, lease_ms):
            ClaimLease(idem, claim, lease_ms)._mark_lost(None)
            return
