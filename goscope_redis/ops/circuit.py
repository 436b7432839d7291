"""Circuit-breaker operations: the shared state machine, written once, with no I/O.

Theory of operation
===================

One breaker is one Redis hash, ``<prefix>circuit:{<name>}``, shared by every process that uses
the same prefix and name, plus one sorted set of probe leases, ``<prefix>circuit:{<name>}:probes``
(same hash tag, so both live in one Cluster slot). The hash holds::

    state            closed | open | half-open      (a missing hash means closed, no failures)
    failures         consecutive failures while closed
    last_failure     Redis TIME (epoch ms) of the last recorded failure
    last_success     Redis TIME of the last *written* success (see "hot path" below)
    opened_at        Redis TIME at which it last opened (absent while closed)
    probe_successes  successful probes in the current half-open round

The machine, where every arrow is taken inside exactly one Lua script::

                 failures >= failure_threshold              now >= opened_at + reset_timeout
    CLOSED ------------------------------------> OPEN ------------------------------------+
      ^                 (circuit_failure)         ^              (circuit_admit)          |
      |                                           |   any failure                         v
      +------------------------------------------ | ------------------------------- HALF-OPEN
          probe_successes >= success_threshold    +------------------------------------+
                     (circuit_success)                      (circuit_failure)

* **Admission** (``circuit_admit``) runs before each call. Closed: it reads the hash and returns
  the failure count; nothing is written, so a closed call costs this one round trip. Open: it
  compares ``opened_at + reset_timeout`` with Redis ``TIME`` (never a worker's clock) and refuses
  with the remaining milliseconds, or moves the breaker to half-open. Half-open: it drops leases
  whose deadline has passed and grants a lease (``ZADD token deadline``) only while fewer than
  ``half_open_max_calls`` are held, so exactly that many probes run across all processes. A probe
  that dies (even by SIGKILL) frees its slot when its lease deadline passes.
* **Outcome.** A failure (``circuit_failure``) increments the count; at the threshold, or in
  half-open, it opens the breaker and drops all leases. An open breaker's ``opened_at`` is never
  pushed back by later failures. A success (``circuit_success``) resets the count; a probe's
  success counts toward closing only if its lease is still held, and ``success_threshold`` such
  successes close the breaker. A success reported by a call that was admitted while closed never
  closes an open or half-open breaker.
* **Hot path.** The admission reply carries the failure count. When it was 0, the success of
  that call needs no write at all; the breaker skips the second round trip. (So
  ``last_success_time`` is written only when a success changes something.)
* **Excluded errors** count as neither success nor failure; a probe's lease is simply returned
  (``ZREM``).
* **Expiry.** An open or half-open record never expires (``PERSIST``). A closed record written
  by a breaker expires after ``idle_ttl`` (``10 x max(reset_timeout, probe_lease)``) without
  writes, so breaker names that are no longer used do not pile up. The lease set expires with its
  newest lease. No TTL is a fixed constant.
* **Callbacks.** Each script reports whether *this* call moved the state, so ``on_open``,
  ``on_half_open`` and ``on_close`` fire exactly once, in the process that caused the transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from goscope_redis import scripts
from goscope_redis.effects import Call, Eval, Op, Script
from goscope_redis.errors import CircuitOpenError
from goscope_redis.keys import KeySpace

CIRCUIT_ADMIT: Final = scripts.register(Script.load("circuit_admit"))
CIRCUIT_FAILURE: Final = scripts.register(Script.load("circuit_failure"))
CIRCUIT_SUCCESS: Final = scripts.register(Script.load("circuit_success"))
CIRCUIT_SET: Final = scripts.register(Script.load("circuit_set"))

StateName = Literal["closed", "open", "half-open"]
STATES: Final[tuple[StateName, ...]] = ("closed", "open", "half-open")
IDLE_TTL_FACTOR: Final = 10
"""A closed record expires after this many reset timeouts (or probe leases) without writes."""

_ADMIT_CLOSED, _ADMIT_PROBE = 0, 1


@dataclass(frozen=True, slots=True)
class CircuitBreakerState:
    """A snapshot of one breaker's shared record. Times are epoch ms from Redis ``TIME``."""

    state: StateName = "closed"
    failure_count: int = 0
    last_failure_time: int | None = None
    last_success_time: int | None = None
    opened_at: int | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {self.state!r}")
        if not _is_count(self.failure_count):
            raise ValueError(f"failure_count must be an int >= 0, got {self.failure_count!r}")
        for name in ("last_failure_time", "last_success_time", "opened_at"):
            value = getattr(self, name)
            if value is not None and not _is_count(value):
                raise ValueError(f"{name} must be epoch ms (int >= 0) or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class BreakerSpec:
    """A validated breaker configuration with its precomputed Redis keys."""

    name: str
    state_key: str
    probes_key: str
    failure_threshold: int
    reset_timeout: int
    success_threshold: int
    half_open_max_calls: int
    probe_lease: int

    @property
    def idle_ttl(self) -> int:
        """Expiry of a closed record without writes; derived from the configuration."""
        return IDLE_TTL_FACTOR * max(self.reset_timeout, self.probe_lease)


@dataclass(frozen=True, slots=True)
class Ticket:
    """What admission granted one call; handed back when its outcome is recorded."""

    probe: str | None = None
    """The lease token when the call runs as a half-open probe."""
    failures: int = 0
    """The failure count seen at a closed admission; 0 means a success needs no write."""
    half_opened: bool = False
    """This admission moved the breaker from open to half-open."""
    local: bool = False
    """Admitted by the process-local fallback breaker (Redis was unreachable)."""

    @property
    def success_needs_write(self) -> bool:
        """False on the hot path: a closed call that saw no failures."""
        return self.probe is not None or self.failures > 0


Transition = Literal["open", "closed"] | None
"""What an outcome did to the shared state: opened it, closed it, or nothing."""


def make_spec(
    keys: KeySpace,
    name: str,
    *,
    failure_threshold: int,
    reset_timeout: int,
    success_threshold: int,
    half_open_max_calls: int,
    probe_lease: int,
) -> BreakerSpec:
    """Validate the thresholds (durations are validated ms already) and build the keys."""
    for label, value in (
        ("failure_threshold", failure_threshold),
        ("success_threshold", success_threshold),
        ("half_open_max_calls", half_open_max_calls),
    ):
        if not _is_count(value) or value < 1:
            raise ValueError(f"circuit {name!r}: {label} must be an int >= 1, got {value!r}")
    return BreakerSpec(
        name,
        keys.key(name),
        keys.key(name, "probes"),
        failure_threshold,
        reset_timeout,
        success_threshold,
        half_open_max_calls,
        probe_lease,
    )


def admit(spec: BreakerSpec, token: str) -> Op[Ticket]:
    """Admit one call (one round trip); raise :class:`CircuitOpenError` if refused."""
    code, value = yield Eval(
        CIRCUIT_ADMIT,
        (spec.state_key, spec.probes_key),
        (spec.reset_timeout, spec.half_open_max_calls, spec.probe_lease, token),
    )
    if code == _ADMIT_CLOSED:
        return Ticket(failures=int(value))
    if code == _ADMIT_PROBE:
        return Ticket(probe=token, half_opened=value == 1)
    raise CircuitOpenError(spec.name, int(value))


def succeed(spec: BreakerSpec, ticket: Ticket) -> Op[Transition]:
    """Record a protected call's success; return ``"closed"`` if it closed the breaker."""
    reply = yield Eval(
        CIRCUIT_SUCCESS,
        (spec.state_key, spec.probes_key),
        (ticket.probe or "", spec.success_threshold, spec.idle_ttl, "0"),
    )
    return "closed" if reply[1] == 1 else None


def fail(spec: BreakerSpec, ticket: Ticket) -> Op[Transition]:
    """Record a protected call's failure; return ``"open"`` if it opened the breaker."""
    reply = yield Eval(
        CIRCUIT_FAILURE,
        (spec.state_key, spec.probes_key),
        (spec.failure_threshold, ticket.probe or "", spec.idle_ttl),
    )
    return "open" if reply[2] == 1 else None


def release(spec: BreakerSpec, ticket: Ticket) -> Op[None]:
    """Return a probe's lease without an outcome (an excluded error, a cancellation)."""
    if ticket.probe is not None:
        yield Call(("ZREM", spec.probes_key, ticket.probe))


def get_state(keys: KeySpace, key: str) -> Op[CircuitBreakerState | None]:
    """Read a breaker's record (``HGETALL``); ``None`` if it has none."""
    reply = yield Call(("HGETALL", keys.key(key)))
    return parse_state(reply)


def set_state(keys: KeySpace, key: str, state: CircuitBreakerState) -> Op[None]:
    """Overwrite a breaker's record and drop its probe leases, in one script."""
    yield Eval(
        CIRCUIT_SET,
        (keys.key(key), keys.key(key, "probes")),
        (
            state.state,
            state.failure_count,
            _opt(state.last_failure_time),
            _opt(state.last_success_time),
            _opt(state.opened_at),
        ),
    )


def record_failure(keys: KeySpace, key: str, max_failures: int) -> Op[int]:
    """Count one failure atomically; open at ``max_failures``. Return the new count."""
    reply = yield Eval(
        CIRCUIT_FAILURE, (keys.key(key), keys.key(key, "probes")), (max_failures, "", 0)
    )
    return int(reply[0])


def record_success(keys: KeySpace, key: str) -> Op[None]:
    """Reset the failure count; a half-open breaker closes. An open breaker stays open."""
    yield Eval(CIRCUIT_SUCCESS, (keys.key(key), keys.key(key, "probes")), ("", 1, 0, "1"))


def parse_state(reply: Any) -> CircuitBreakerState | None:
    """Build a :class:`CircuitBreakerState` from an ``HGETALL`` reply (bytes or str)."""
    if not reply:
        return None
    fields = {_text(k): _text(v) for k, v in _pairs(reply)}
    state = fields.get("state", "closed")
    return CircuitBreakerState(
        state if state in STATES else "closed",
        int(fields.get("failures", 0)),
        _opt_int(fields.get("last_failure")),
        _opt_int(fields.get("last_success")),
        _opt_int(fields.get("opened_at")),
    )


def _pairs(reply: Any) -> Any:
    # redis-py turns HGETALL into a dict; a raw RESP2 reply is a flat list.
    if isinstance(reply, dict):
        return reply.items()
    return zip(reply[::2], reply[1::2])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _opt(value: int | None) -> int | str:
    return "" if value is None else value


def _opt_int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
