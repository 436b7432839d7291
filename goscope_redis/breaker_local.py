"""The process-local breaker used while Redis is unreachable.

It follows the same machine as the shared one (``goscope_redis/ops/circuit.py``) with the same
thresholds, but its state lives in this process only and its deadlines use the local monotonic
clock. It exists so that a storage outage never blocks the protected call, while a failing
dependency is still cut off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from itertools import count

from goscope_redis.errors import CircuitOpenError
from goscope_redis.ops.circuit import (
    BreakerSpec,
    CircuitBreakerState,
    StateName,
    Ticket,
    Transition,
)


def _epoch_ms() -> int:
    # Only for the informational timestamps of a local snapshot; never compared across workers.
    return time.time_ns() // 1_000_000


class LocalBreaker:
    """A thread-safe, in-process breaker with the thresholds of ``spec``."""

    def __init__(self, spec: BreakerSpec, clock: Callable[[], float] = time.monotonic) -> None:
        self._spec = spec
        self._clock = clock
        self._mutex = threading.Lock()
        self._tokens = count(1)
        self.reset()

    def reset(self) -> None:
        """Forget everything: closed, no failures, no probes."""
        self._state: StateName = "closed"
        self._failures = 0
        self._opened_at = 0.0  # monotonic seconds
        self._probes: dict[str, float] = {}  # token -> lease deadline (monotonic seconds)
        self._probe_successes = 0
        self._last_failure: int | None = None
        self._last_success: int | None = None
        self._opened_epoch: int | None = None

    def admit(self) -> Ticket:
        """Admit one call, or raise :class:`CircuitOpenError`."""
        with self._mutex:
            if self._state == "closed":
                return Ticket(failures=self._failures, local=True)
            now = self._clock()
            moved = False
            if self._state == "open":
                due = self._opened_at + self._spec.reset_timeout / 1000
                if now < due:
                    raise CircuitOpenError(self._spec.name, _ms(due - now))
                self._state, self._probe_successes, self._probes = "half-open", 0, {}
                moved = True
            return self._lease(now, moved)

    def _lease(self, now: float, moved: bool) -> Ticket:
        self._probes = {t: d for t, d in self._probes.items() if d > now}
        if len(self._probes) >= self._spec.half_open_max_calls:
            raise CircuitOpenError(self._spec.name, _ms(min(self._probes.values()) - now))
        token = f"local:{next(self._tokens)}"
        self._probes[token] = now + self._spec.probe_lease / 1000
        return Ticket(probe=token, half_opened=moved, local=True)

    def succeed(self, ticket: Ticket) -> Transition:
        """Record a success; return ``"closed"`` if it closed the breaker."""
        with self._mutex:
            leased = ticket.probe is not None and self._probes.pop(ticket.probe, None) is not None
            if self._state == "closed":
                self._failures, self._last_success = 0, _epoch_ms()
            elif self._state == "half-open" and leased:
                self._last_success = _epoch_ms()
                self._probe_successes += 1
                if self._probe_successes >= self._spec.success_threshold:
                    self._state, self._failures, self._probes = "closed", 0, {}
                    self._opened_epoch = None
                    return "closed"
            return None

    def fail(self, ticket: Ticket) -> Transition:
        """Record a failure; return ``"open"`` if it opened the breaker."""
        with self._mutex:
            if ticket.probe is not None:
                self._probes.pop(ticket.probe, None)
            self._failures += 1
            self._last_failure = _epoch_ms()
            tripped = self._state == "closed" and self._failures >= self._spec.failure_threshold
            if self._state == "half-open" or tripped:
                self._state, self._opened_at, self._probes = "open", self._clock(), {}
                self._opened_epoch = self._last_failure
                return "open"
            return None

    def release(self, ticket: Ticket) -> None:
        """Return a probe's lease without an outcome."""
        if ticket.probe is not None:
            with self._mutex:
                self._probes.pop(ticket.probe, None)

    def snapshot(self) -> CircuitBreakerState:
        """The local state, in the shape of the shared record."""
        with self._mutex:
            return CircuitBreakerState(
                self._state,
                self._failures,
                self._last_failure,
                self._last_success,
                self._opened_epoch,
            )


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
