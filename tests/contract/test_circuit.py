"""Circuit-breaker contract: state provider and shared breaker policy on all four faces."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, CircuitBreakerState, CircuitOpenError, RedisAdapter
from goscope_redis.testing import free_port
from tests.conftest import AsyncFace, SyncFace, make_face

PAST = 1  # an opened_at long before any reset timeout: the next admission half-opens


def state_key(prefix: str, name: str) -> str:
    return f"{prefix}circuit:{{{name}}}"


def boom() -> None:
    raise ConnectionRefusedError("dependency down")


def fail_times(breaker: Any, n: int) -> None:
    for _ in range(n):
        with pytest.raises(ConnectionRefusedError):
            breaker.call(boom)


def force_half_open_soon(adapter: Any, name: str, failures: int = 5) -> None:
    """Open the breaker as if long ago, so its next admission moves it to half-open."""
    adapter.set_state(name, CircuitBreakerState("open", failures, PAST, None, PAST))


def run_block(breaker: Any, body: Callable[[], Any]) -> Any:
    """Run ``body`` inside ``with breaker:`` (``async with`` in one task on the async faces)."""
    if not hasattr(breaker, "_loop"):
        with breaker:
            return body()

    async def go() -> Any:
        async with breaker.unwrapped:
            return body()

    return breaker._loop.run_until_complete(go())


# ---- state provider -------------------------------------------------------------------------


def test_get_state_of_unknown_breaker_is_none(adapter):
    assert adapter.get_state("nobody") is None


def test_record_failure_counts_and_opens_at_max_failures(adapter, raw, prefix):
    assert [adapter.record_failure("svc", 3) for _ in range(2)] == [1, 2]
    assert adapter.get_state("svc").state == "closed"
    assert adapter.record_failure("svc", 3) == 3
    state = adapter.get_state("svc")
    assert state.state == "open" and state.failure_count == 3
    assert state.opened_at == state.last_failure_time
    assert abs(state.opened_at - time.time() * 1000) < 60_000
    assert raw.pttl(state_key(prefix, "svc")) == -1  # an open breaker never expires


def test_record_failure_while_open_keeps_opened_at(adapter):
    for _ in range(2):
        adapter.record_failure("svc", 2)
    opened_at = adapter.get_state("svc").opened_at
    adapter.sleep(0.01)
    assert adapter.record_failure("svc", 2) == 3
    assert adapter.get_state("svc").opened_at == opened_at


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "3", None])
def test_record_failure_rejects_bad_max_failures_and_writes_nothing(adapter, bad):
    with pytest.raises(ValueError, match="svc"):
        adapter.record_failure("svc", bad)
    assert adapter.get_state("svc") is None


def test_record_success_resets_failure_count(adapter):
    adapter.record_failure("svc", 5)
    adapter.record_failure("svc", 5)
    adapter.record_success("svc")
    state = adapter.get_state("svc")
    assert state.state == "closed" and state.failure_count == 0
    assert state.last_success_time is not None


def test_record_success_closes_half_open_but_not_open(adapter):
    adapter.set_state("svc", CircuitBreakerState("open", 3, opened_at=PAST))
    adapter.record_success("svc")
    assert adapter.get_state("svc").state == "open"
    adapter.set_state("svc", CircuitBreakerState("half-open", 3, opened_at=PAST))
    adapter.record_success("svc")
    state = adapter.get_state("svc")
    assert (state.state, state.failure_count, state.opened_at) == ("closed", 0, None)


def test_set_state_round_trips(adapter):
    state = CircuitBreakerState("half-open", 4, 1_000, 2_000, 3_000)
    adapter.set_state("svc", state)
    assert adapter.get_state("svc") == state


def test_set_state_open_without_opened_at_opens_now(adapter):
    adapter.set_state("svc", CircuitBreakerState("open", 1))
    opened_at = adapter.get_state("svc").opened_at
    assert opened_at is not None and abs(opened_at - time.time() * 1000) < 60_000


def test_set_state_rejects_other_types_and_writes_nothing(adapter):
    with pytest.raises(TypeError, match="svc"):
        adapter.set_state("svc", {"state": "open"})
    assert adapter.get_state("svc") is None


@pytest.mark.parametrize("bad", ["", None, 5])
def test_bad_breaker_key_raises(adapter, bad):
    with pytest.raises((TypeError, ValueError)):
        adapter.record_failure(bad, 3)


def test_keys_with_braces_and_colons_do_not_collide(adapter):
    adapter.record_failure("a", 9)
    adapter.record_failure("a:probes", 9)
    adapter.record_failure("a}:probes", 9)
    assert adapter.get_state("a").failure_count == 1
    assert adapter.get_state("a:probes").failure_count == 1


# ---- breaker policy: closed and open --------------------------------------------------------


def test_closed_success_returns_result_and_writes_nothing(adapter, raw, prefix):
    breaker = adapter.circuit_breaker("svc")
    assert breaker.call(lambda x, y=0: x + y, 1, y=2) == 3
    assert raw.exists(state_key(prefix, "svc")) == 0
    assert breaker.name == "svc"


def test_breaker_opens_after_consecutive_failures_and_refuses_without_calling(adapter):
    breaker = adapter.circuit_breaker("svc", failure_threshold=3, reset_timeout=60_000)
    fail_times(breaker, 3)
    calls = []
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(calls.append, 1)
    assert calls == []
    assert info.value.name == "svc"
    assert 50_000 < info.value.retry_after <= 60_000
    assert breaker.state().state == "open"


def test_success_resets_consecutive_failures(adapter):
    breaker = adapter.circuit_breaker("svc", failure_threshold=3)
    fail_times(breaker, 2)
    assert breaker.state().failure_count == 2
    breaker.call(lambda: None)
    assert breaker.state().failure_count == 0
    fail_times(breaker, 2)
    assert breaker.state().state == "closed"


def test_new_breaker_object_and_adapter_see_shared_state(adapter, factory, prefix):
    fail_times(adapter.circuit_breaker("svc", failure_threshold=2, reset_timeout=60_000), 2)
    other = factory(prefix).circuit_breaker("svc", failure_threshold=2, reset_timeout=60_000)
    with pytest.raises(CircuitOpenError):
        other.call(lambda: None)
    assert other.state().state == "open"


def test_breakers_under_other_prefixes_are_independent(adapter, factory, prefix):
    fail_times(adapter.circuit_breaker("svc", failure_threshold=1, reset_timeout=60_000), 1)
    assert factory(prefix + "other:").circuit_breaker("svc").call(lambda: 7) == 7


def test_closed_record_expires_after_derived_idle_ttl_open_never(adapter, raw, prefix):
    breaker = adapter.circuit_breaker("svc", failure_threshold=2, reset_timeout=3_000)
    fail_times(breaker, 1)
    assert 25_000 < raw.pttl(state_key(prefix, "svc")) <= 30_000  # 10 x reset_timeout
    fail_times(breaker, 1)
    assert raw.pttl(state_key(prefix, "svc")) == -1


# ---- half-open ------------------------------------------------------------------------------


def test_after_reset_timeout_a_probe_success_closes_with_callbacks(adapter):
    events: list[str] = []
    breaker = adapter.circuit_breaker(
        "svc",
        failure_threshold=2,
        reset_timeout=150,
        on_open=lambda b: events.append(f"open:{b.name}"),
        on_half_open=lambda b: events.append("half-open"),
        on_close=lambda b: events.append("closed"),
    )
    fail_times(breaker, 2)
    adapter.sleep(0.3)
    assert breaker.call(lambda: "probe") == "probe"
    assert events == ["open:svc", "half-open", "closed"]
    state = breaker.state()
    assert (state.state, state.failure_count, state.opened_at) == ("closed", 0, None)


def test_probe_failure_reopens_for_a_full_reset_timeout(adapter):
    opened: list[str] = []
    breaker = adapter.circuit_breaker(
        "svc", failure_threshold=1, reset_timeout=30_000, on_open=lambda b: opened.append("x")
    )
    force_half_open_soon(adapter, "svc")
    fail_times(breaker, 1)
    assert opened == ["x"]
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: None)
    assert info.value.retry_after > 20_000


def test_half_open_admits_only_max_probes_while_they_run(adapter, raw, prefix):
    make = lambda: adapter.circuit_breaker(  # noqa: E731
        "svc", reset_timeout=60_000, half_open_max_calls=2, probe_lease=30_000
    )
    force_half_open_soon(adapter, "svc")
    make().__enter__()  # two probes in flight (never finished)
    make().__enter__()
    with pytest.raises(CircuitOpenError) as info:
        make().call(lambda: None)
    assert 20_000 < info.value.retry_after <= 30_000
    assert raw.zcard(state_key(prefix, "svc") + ":probes") == 2
    assert 20_000 < raw.pttl(state_key(prefix, "svc") + ":probes") <= 30_000


def test_dead_probe_lease_expires_then_another_breaker_probes(adapter):
    make = lambda: adapter.circuit_breaker("svc", reset_timeout=60_000, probe_lease=800)  # noqa: E731
    force_half_open_soon(adapter, "svc")
    make().__enter__()  # this probe's process "dies": it never reports
    with pytest.raises(CircuitOpenError):
        make().call(lambda: None)
    adapter.sleep(1.0)
    assert make().call(lambda: "second probe") == "second probe"
    assert adapter.get_state("svc").state == "closed"


def test_success_threshold_needs_that_many_probe_successes(adapter):
    breaker = adapter.circuit_breaker("svc", reset_timeout=60_000, success_threshold=3)
    force_half_open_soon(adapter, "svc")
    for _ in range(2):
        breaker.call(lambda: None)
        assert breaker.state().state == "half-open"
    breaker.call(lambda: None)
    assert breaker.state().state == "closed"


def test_late_success_of_a_closed_call_does_not_close_half_open(adapter, raw, prefix):
    breaker = adapter.circuit_breaker("svc", failure_threshold=5, reset_timeout=60_000)
    fail_times(breaker, 2)  # so this call's success will need a write

    def tripped_meanwhile() -> None:
        # Other processes opened the breaker and it half-opened while this call ran.
        raw.hset(state_key(prefix, "svc"), mapping={"state": "half-open", "opened_at": PAST})

    run_block(breaker, tripped_meanwhile)
    state = adapter.get_state("svc")
    assert (state.state, state.failure_count) == ("half-open", 2)


# ---- outcomes: exclude, context manager, async functions, callbacks -------------------------


def test_excluded_errors_count_as_neither_success_nor_failure(adapter):
    breaker = adapter.circuit_breaker("svc", failure_threshold=2, exclude=(KeyError,))
    fail_times(breaker, 1)
    for _ in range(3):
        with pytest.raises(KeyError):
            breaker.call({}.__getitem__, "missing")
    assert breaker.state().failure_count == 1  # neither counted nor reset


def test_excluded_error_of_a_probe_returns_its_lease(adapter, raw, prefix):
    breaker = adapter.circuit_breaker("svc", reset_timeout=60_000, exclude=KeyError)
    force_half_open_soon(adapter, "svc")
    with pytest.raises(KeyError):
        breaker.call({}.__getitem__, "missing")
    assert breaker.state().state == "half-open"
    assert raw.zcard(state_key(prefix, "svc") + ":probes") == 0
    breaker.call(lambda: None)  # the slot is free again: this probe closes it
    assert breaker.state().state == "closed"


def test_context_manager_records_failure_and_success(adapter):
    breaker = adapter.circuit_breaker("svc", failure_threshold=2, reset_timeout=60_000)
    with pytest.raises(ZeroDivisionError):
        run_block(breaker, lambda: 1 / 0)
    assert breaker.state().failure_count == 1
    assert run_block(breaker, lambda: "ok") == "ok"
    assert breaker.state().failure_count == 0
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            run_block(breaker, lambda: 1 / 0)
    ran = []
    with pytest.raises(CircuitOpenError):
        run_block(breaker, lambda: ran.append(1))
    assert ran == []


def test_async_breaker_awaits_coroutine_functions(adapter):
    if not adapter.is_async:
        pytest.skip("async faces only")
    breaker = adapter.circuit_breaker("svc", failure_threshold=1, reset_timeout=60_000)

    async def fetch(x: int) -> int:
        return x * 2

    async def broken() -> None:
        raise ConnectionError("down")

    assert breaker.call(fetch, 21) == 42
    with pytest.raises(ConnectionError):
        breaker.call(broken)
    assert breaker.state().state == "open"


def test_callback_errors_are_logged_and_do_not_change_the_outcome(adapter, caplog):
    def bad(_: Any) -> None:
        raise RuntimeError("callback bug")

    breaker = adapter.circuit_breaker("svc", failure_threshold=1, on_open=bad)
    with caplog.at_level(logging.ERROR, logger="goscope_redis"):
        fail_times(breaker, 1)
    assert breaker.state().state == "open"
    assert "callback" in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"success_threshold": True},
        {"half_open_max_calls": -1},
        {"reset_timeout": 0},
        {"reset_timeout": 1.5},
        {"probe_lease": -5},
    ],
)
def test_bad_breaker_configuration_raises(adapter, kwargs):
    with pytest.raises(ValueError):
        adapter.circuit_breaker("svc", **kwargs)


def test_exclude_must_hold_exception_classes(adapter):
    with pytest.raises(TypeError, match="svc"):
        adapter.circuit_breaker("svc", exclude=("KeyError",))


# ---- Redis unreachable: process-local fallback ----------------------------------------------


@pytest.fixture
def dead(face_id: str, prefix: str, loop: Any) -> Iterator[Any]:
    """An adapter of the current face whose Redis is unreachable (and a switch to revive it)."""
    mode, backend = face_id.split("-")
    if backend == "real":
        # retry=None: redis-py's default retries would spend ~2.5 s on each refused connect.
        client = (redis.Redis if mode == "sync" else redis.asyncio.Redis)(
            port=free_port(), retry=None
        )
        adapter = (RedisAdapter if mode == "sync" else AsyncRedisAdapter)(client, prefix)
        face = SyncFace(adapter) if mode == "sync" else AsyncFace(adapter, loop)
    else:
        import fakeredis

        server = fakeredis.FakeServer()
        server.connected = False
        face = make_face(mode, backend, server, prefix, loop)
        face.server = server
    yield face
    client = face.unwrapped.client
    if mode == "async":
        loop.run_until_complete(client.aclose())
    else:
        client.close()


def fallback_warnings(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if "process-local" in r.getMessage()]


def test_unreachable_redis_never_blocks_the_call_and_logs_once(dead, caplog):
    breaker = dead.circuit_breaker("svc", failure_threshold=3)
    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        assert [breaker.call(lambda i=i: i) for i in range(5)] == list(range(5))
        assert breaker.state().state == "closed"
    assert len(fallback_warnings(caplog)) == 1
    assert "svc" in fallback_warnings(caplog)[0]


def test_local_fallback_keeps_the_same_thresholds(dead, caplog):
    breaker = dead.circuit_breaker("svc", failure_threshold=2, reset_timeout=60_000)
    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        fail_times(breaker, 2)
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: None)
    assert breaker.state().state == "open"
    assert len(fallback_warnings(caplog)) == 1


def test_breaker_returns_to_redis_when_it_is_back(dead, face_id, caplog):
    if face_id.endswith("real"):
        pytest.skip("reviving is simulated with fakeredis")
    breaker = dead.circuit_breaker("svc", failure_threshold=1, reset_timeout=200)
    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        fail_times(breaker, 1)  # opens the local breaker only
        dead.server.connected = True
        dead.sleep(0.3)
        assert breaker.call(lambda: "via redis") == "via redis"
    assert "using Redis again" in caplog.text
    assert dead.get_state("svc") is None  # the local failure never reached Redis


def test_redis_lost_during_the_call_still_returns_its_result(adapter, face_id, caplog):
    if face_id.endswith("real"):
        pytest.skip("losing the connection mid-call is simulated with fakeredis")
    server = adapter.unwrapped.client.connection_pool.connection_kwargs["server"]
    breaker = adapter.circuit_breaker("svc", failure_threshold=1, reset_timeout=60_000)

    def cut_and_fail() -> None:
        server.connected = False
        raise ConnectionRefusedError("dependency down")

    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        with pytest.raises(ConnectionRefusedError):
            breaker.call(cut_and_fail)
        with pytest.raises(CircuitOpenError):  # the failure was recorded locally
            breaker.call(lambda: None)
    assert len(fallback_warnings(caplog)) == 1


def test_error_reply_from_redis_falls_back_instead_of_failing_the_call(
    adapter, raw, prefix, caplog
):
    raw.set(state_key(prefix, "svc"), "not a hash")  # every script on this key gets WRONGTYPE
    breaker = adapter.circuit_breaker("svc")
    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        assert breaker.call(lambda: "ran") == "ran"
        assert breaker.call(lambda: "ran again") == "ran again"
    assert len(fallback_warnings(caplog)) == 1
    assert "WRONGTYPE" in fallback_warnings(caplog)[0]


def test_non_callable_is_rejected_before_admission(adapter):
    breaker = adapter.circuit_breaker("svc", failure_threshold=1)
    with pytest.raises(TypeError, match="callable"):
        breaker.call(None)
    assert adapter.get_state("svc") is None


def test_cancelled_async_probe_returns_its_lease_and_counts_nothing(adapter, raw, prefix):
    if not adapter.is_async:
        pytest.skip("async faces only")
    import asyncio

    breaker = adapter.circuit_breaker("svc", reset_timeout=60_000).unwrapped
    force_half_open_soon(adapter, "svc")

    async def probe_then_cancel() -> None:
        task = asyncio.ensure_future(breaker.call(asyncio.sleep, 30))
        await asyncio.sleep(0.2)
        assert raw.zcard(state_key(prefix, "svc") + ":probes") == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    adapter._loop.run_until_complete(probe_then_cancel())
    assert raw.zcard(state_key(prefix, "svc") + ":probes") == 0
    assert adapter.get_state("svc").state == "half-open"
