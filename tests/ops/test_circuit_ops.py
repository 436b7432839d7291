"""Circuit-breaker ops and the local fallback breaker, with scripted replies (no Redis)."""

from __future__ import annotations

from typing import Any

import pytest

from goscope_redis import CircuitOpenError
from goscope_redis.breaker_local import LocalBreaker
from goscope_redis.effects import Call, Eval
from goscope_redis.keys import KeySpace
from goscope_redis.ops import circuit as ops
from goscope_redis.ops.circuit import CircuitBreakerState, Ticket

KEYS = KeySpace("app:", "circuit")


def spec(**overrides: Any) -> ops.BreakerSpec:
    config: dict[str, Any] = {
        "failure_threshold": 3,
        "reset_timeout": 1_000,
        "success_threshold": 1,
        "half_open_max_calls": 1,
        "probe_lease": 500,
    }
    config.update(overrides)
    return ops.make_spec(KEYS, "pay", **config)


def drive(op: Any, *replies: Any) -> tuple[list[Any], Any]:
    """Run ``op`` feeding ``replies`` in order; return the effects it yielded and its result."""
    effects: list[Any] = []
    reply: Any = None
    pending = list(replies)
    try:
        while True:
            effects.append(op.send(reply))
            reply = pending.pop(0)
    except StopIteration as stop:
        return effects, stop.value


def test_spec_keys_share_one_hash_tag():
    s = spec()
    assert s.state_key == "app:circuit:{pay}"
    assert s.probes_key == "app:circuit:{pay}:probes"


def test_idle_ttl_is_derived_from_configuration():
    assert spec(reset_timeout=2_000, probe_lease=500).idle_ttl == 20_000
    assert spec(reset_timeout=2_000, probe_lease=9_000).idle_ttl == 90_000


@pytest.mark.parametrize("field", ["failure_threshold", "success_threshold", "half_open_max_calls"])
@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "3"])
def test_bad_thresholds_raise_naming_the_breaker(field, bad):
    with pytest.raises(ValueError, match=rf"'pay'.*{field}"):
        spec(**{field: bad})


def test_admit_closed_is_one_script_returning_failure_count():
    effects, ticket = drive(ops.admit(spec(), "tok"), [0, 2])
    (effect,) = effects
    assert isinstance(effect, Eval) and effect.script is ops.CIRCUIT_ADMIT
    assert list(effect.keys) == ["app:circuit:{pay}", "app:circuit:{pay}:probes"]
    assert list(effect.args) == [1_000, 1, 500, "tok"]
    assert ticket == Ticket(failures=2)
    assert ticket.success_needs_write


def test_closed_ticket_with_no_failures_needs_no_success_write():
    _, ticket = drive(ops.admit(spec(), "tok"), [0, 0])
    assert not ticket.success_needs_write


def test_admit_probe_carries_the_lease_token_and_transition():
    _, ticket = drive(ops.admit(spec(), "tok"), [1, 1])
    assert ticket == Ticket(probe="tok", half_opened=True)
    assert ticket.success_needs_write


def test_admit_refused_raises_with_retry_after():
    with pytest.raises(CircuitOpenError) as info:
        drive(ops.admit(spec(), "tok"), [2, 734])
    assert info.value.name == "pay" and info.value.retry_after == 734


def test_succeed_sends_probe_token_and_reports_close():
    effects, transition = drive(ops.succeed(spec(), Ticket(probe="tok")), [0, 1])
    assert effects[0].script is ops.CIRCUIT_SUCCESS
    assert list(effects[0].args) == ["tok", 1, 10_000, "0"]
    assert transition == "closed"


def test_succeed_without_transition_reports_none():
    assert drive(ops.succeed(spec(), Ticket(failures=2)), [0, 0])[1] is None


def test_fail_reports_open_only_when_this_call_opened_it():
    effects, transition = drive(ops.fail(spec(), Ticket()), [3, 1, 1])
    assert effects[0].script is ops.CIRCUIT_FAILURE
    assert list(effects[0].args) == [3, "", 10_000]
    assert transition == "open"
    assert drive(ops.fail(spec(), Ticket()), [4, 1, 0])[1] is None


def test_release_of_a_closed_ticket_does_nothing():
    assert drive(ops.release(spec(), Ticket()))[0] == []


def test_release_of_a_probe_removes_its_lease():
    effects, _ = drive(ops.release(spec(), Ticket(probe="tok")), 1)
    assert effects == [Call(("ZREM", "app:circuit:{pay}:probes", "tok"))]


def test_record_failure_returns_new_count_and_keeps_expiry():
    effects, count = drive(ops.record_failure(KEYS, "pay", 5), [7, 1, 0])
    assert list(effects[0].args) == [5, "", 0]
    assert count == 7


def test_record_success_is_a_direct_success():
    effects, _ = drive(ops.record_success(KEYS, "pay"), [0, 0])
    assert list(effects[0].args) == ["", 1, 0, "1"]


def test_get_state_parses_bytes_and_missing_fields():
    reply = {b"state": b"open", b"failures": b"4", b"last_failure": b"10", b"opened_at": b"10"}
    _, state = drive(ops.get_state(KEYS, "pay"), reply)
    assert state == CircuitBreakerState("open", 4, 10, None, 10)
    assert drive(ops.get_state(KEYS, "pay"), {})[1] is None


def test_get_state_parses_a_flat_resp2_reply():
    assert ops.parse_state(["state", "half-open", "failures", "1"]) == CircuitBreakerState(
        "half-open", 1
    )


def test_set_state_sends_empty_strings_for_missing_times():
    effects, _ = drive(ops.set_state(KEYS, "pay", CircuitBreakerState("open", 2, 5)), 1)
    assert effects[0].script is ops.CIRCUIT_SET
    assert list(effects[0].args) == ["open", 2, 5, "", ""]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"state": "broken"},
        {"failure_count": -1},
        {"failure_count": True},
        {"opened_at": 1.5},
        {"last_failure_time": -3},
    ],
)
def test_invalid_state_records_are_rejected(kwargs):
    with pytest.raises(ValueError):
        CircuitBreakerState(**kwargs)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_local_breaker_opens_at_threshold_and_refuses():
    local = LocalBreaker(spec(), clock=FakeClock())
    transitions = [local.fail(local.admit()) for _ in range(3)]
    assert transitions == [None, None, "open"]
    with pytest.raises(CircuitOpenError) as info:
        local.admit()
    assert info.value.retry_after == 1_000
    assert local.snapshot().state == "open"


def test_local_breaker_success_resets_failures():
    local = LocalBreaker(spec(), clock=FakeClock())
    local.fail(local.admit())
    local.fail(local.admit())
    local.succeed(local.admit())
    assert local.snapshot().failure_count == 0
    local.fail(local.admit())
    assert local.snapshot().state == "closed"


def test_local_breaker_half_open_admits_limited_probes_and_closes():
    clock = FakeClock()
    local = LocalBreaker(spec(half_open_max_calls=2, success_threshold=2), clock=clock)
    for _ in range(3):
        local.fail(local.admit())
    clock.now += 1.0
    first, second = local.admit(), local.admit()
    assert first.half_opened and not second.half_opened
    with pytest.raises(CircuitOpenError):
        local.admit()
    assert local.succeed(first) is None
    assert local.succeed(second) == "closed"
    assert local.snapshot().state == "closed"


def test_local_probe_lease_expires():
    clock = FakeClock()
    local = LocalBreaker(spec(), clock=clock)
    for _ in range(3):
        local.fail(local.admit())
    clock.now += 1.0
    local.admit()  # this probe "dies"
    with pytest.raises(CircuitOpenError):
        local.admit()
    clock.now += 0.5
    assert local.admit().probe is not None


def test_local_probe_failure_reopens():
    clock = FakeClock()
    local = LocalBreaker(spec(), clock=clock)
    for _ in range(3):
        local.fail(local.admit())
    clock.now += 1.0
    assert local.fail(local.admit()) == "open"
    with pytest.raises(CircuitOpenError):
        local.admit()


def test_local_closed_success_does_not_close_a_half_open_breaker():
    clock = FakeClock()
    local = LocalBreaker(spec(), clock=clock)
    early = local.admit()  # admitted while closed, finishes late
    for _ in range(3):
        local.fail(local.admit())
    clock.now += 1.0
    local.admit()
    assert local.succeed(early) is None
    assert local.snapshot().state == "half-open"
