"""Shared circuit breakers across real OS processes: exact counts, exact probes, dead probes."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import threading
import time
from typing import Any

import pytest
import redis

from goscope_redis import AsyncRedisAdapter, CircuitBreakerState, CircuitOpenError, RedisAdapter

from ..procs import run_workers

pytestmark = pytest.mark.slow

PAST = 1  # opened long ago: the next admission half-opens


def _open_long_ago(url: str, prefix: str, name: str) -> None:
    adapter = RedisAdapter.from_url(url, prefix)
    adapter.set_state(name, CircuitBreakerState("open", 5, PAST, None, PAST))
    adapter.disconnect()


def _wait_for_go(raw: redis.Redis, prefix: str) -> None:
    # All workers start together, so the half-open race is real rather than sequential.
    raw.incr(f"{prefix}ready")
    while not raw.exists(f"{prefix}go"):
        time.sleep(0.005)


def _release_when_ready(raw: redis.Redis, prefix: str, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while int(raw.get(f"{prefix}ready") or 0) < n:
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.02)
    raw.set(f"{prefix}go", 1)


# ---- exact counts ---------------------------------------------------------------------------


def _hammer_record_failure(url: str, prefix: str, n: int) -> int:
    adapter = RedisAdapter.from_url(url, prefix)
    for _ in range(n):
        adapter.record_failure("hammered", 10**9)
    adapter.disconnect()
    return n


def test_record_failure_from_8_processes_loses_no_count(redis_server, prefix):
    run_workers(_hammer_record_failure, [(redis_server.url, prefix, 150)] * 8)
    adapter = RedisAdapter.from_url(redis_server.url, prefix)
    state = adapter.get_state("hammered")
    assert (state.state, state.failure_count) == ("closed", 1200)
    adapter.disconnect()


def _failing_calls(url: str, prefix: str, n: int, use_async: bool) -> tuple[int, int]:
    """Run ``n`` failing calls; return (failures that ran, times on_open fired here)."""
    opened: list[str] = []
    ran = 0

    def down() -> None:
        nonlocal ran
        ran += 1
        raise ConnectionRefusedError("dependency down")

    config: dict[str, Any] = {"failure_threshold": 100, "reset_timeout": 60_000}
    config["on_open"] = lambda b: opened.append(b.name)
    if not use_async:
        breaker = RedisAdapter.from_url(url, prefix).circuit_breaker("shared", **config)
        for _ in range(n):
            try:
                breaker.call(down)
            except (ConnectionRefusedError, CircuitOpenError):
                pass
        return ran, len(opened)

    async def main() -> None:
        adapter = AsyncRedisAdapter.from_url(url, prefix)
        breaker = adapter.circuit_breaker("shared", **config)
        for _ in range(n):
            try:
                await breaker.call(down)
            except (ConnectionRefusedError, CircuitOpenError):
                pass
        await adapter.disconnect()

    asyncio.run(main())
    return ran, len(opened)


def test_breaker_opens_exactly_once_and_counts_every_failure_across_8_processes(
    redis_server, prefix
):
    args = [(redis_server.url, prefix, 40, i % 2 == 1) for i in range(8)]
    results = run_workers(_failing_calls, args)
    ran = sum(r[0] for r in results)
    assert sum(r[1] for r in results) == 1  # on_open fired once, in the process that opened it
    assert ran >= 100
    adapter = RedisAdapter.from_url(redis_server.url, prefix)
    state = adapter.get_state("shared")
    assert (state.state, state.failure_count) == ("open", ran)
    adapter.disconnect()


# ---- exactly half_open_max_calls probes ------------------------------------------------------


def _race_for_probe(url: str, prefix: str, use_async: bool) -> tuple[str, int]:
    """Try one call after the start signal; return ("probe"|"refused", on_half_open fired)."""
    raw = redis.Redis.from_url(url)
    half_opened: list[str] = []
    config: dict[str, Any] = {
        "reset_timeout": 60_000,
        "half_open_max_calls": 2,
        "probe_lease": 30_000,
        "on_half_open": lambda b: half_opened.append(b.name),
    }

    def probe() -> None:
        raw.incr(f"{prefix}probes")
        time.sleep(1.5)  # still running while every other process tries
        raise ConnectionRefusedError("still down")

    _wait_for_go(raw, prefix)
    outcome = "refused"
    try:
        if use_async:
            asyncio.run(_async_call(url, prefix, config, probe))
        else:
            RedisAdapter.from_url(url, prefix).circuit_breaker("race", **config).call(probe)
    except ConnectionRefusedError:
        outcome = "probe"
    except CircuitOpenError:
        pass
    return outcome, len(half_opened)


async def _async_call(url: str, prefix: str, config: dict[str, Any], fn: Any) -> Any:
    adapter = AsyncRedisAdapter.from_url(url, prefix)
    try:
        return await adapter.circuit_breaker("race", **config).call(fn)
    finally:
        await adapter.disconnect()


def test_exactly_half_open_max_calls_probes_run_across_16_processes(redis_server, prefix):
    _open_long_ago(redis_server.url, prefix, "race")
    raw = redis.Redis(port=redis_server.port)
    releaser = threading.Thread(target=_release_when_ready, args=(raw, prefix, 16), daemon=True)
    releaser.start()
    args = [(redis_server.url, prefix, i % 2 == 0) for i in range(16)]
    results = run_workers(_race_for_probe, args, timeout=120)
    releaser.join(5)
    assert int(raw.get(f"{prefix}probes")) == 2
    assert [r[0] for r in results].count("probe") == 2
    assert sum(r[1] for r in results) == 1  # one process moved it to half-open
    assert raw.hget(f"{prefix}circuit:{{race}}", "state") == b"open"  # a probe failed
    raw.close()


# ---- a probe killed with SIGKILL ------------------------------------------------------------


def _probe_forever(url: str, prefix: str, lease: int) -> None:
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client

    def hang() -> None:
        raw.set(f"{prefix}probing", time.time())
        time.sleep(600)

    adapter.circuit_breaker("killed", reset_timeout=60_000, probe_lease=lease).call(hang)


def _probe_once(url: str, prefix: str, lease: int) -> str:
    breaker = RedisAdapter.from_url(url, prefix).circuit_breaker(
        "killed", reset_timeout=60_000, probe_lease=lease
    )
    try:
        return str(breaker.call(lambda: "probed"))
    except CircuitOpenError:
        return "refused"


def test_probe_killed_with_sigkill_frees_its_lease_after_the_lease_ttl(redis_server, prefix):
    lease = 3_000
    _open_long_ago(redis_server.url, prefix, "killed")
    raw = redis.Redis(port=redis_server.port)
    proc = mp.get_context("spawn").Process(
        target=_probe_forever, args=(redis_server.url, prefix, lease), daemon=True
    )
    proc.start()
    deadline = time.monotonic() + 60
    while not raw.exists(f"{prefix}probing"):
        assert time.monotonic() < deadline and proc.is_alive(), "the probe never started"
        time.sleep(0.01)
    probing_since = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    # The dead probe still holds its lease (checked from this process, well inside the lease).
    assert _probe_once(redis_server.url, prefix, lease) == "refused"
    time.sleep(max(0.0, probing_since + lease / 1000 + 0.2 - time.monotonic()))
    assert run_workers(_probe_once, [(redis_server.url, prefix, lease)]) == ["probed"]
    assert raw.hget(f"{prefix}circuit:{{killed}}", "state") == b"closed"
    raw.close()


# ---- a worker whose clock is wrong ----------------------------------------------------------


def _skewed_worker(url: str, prefix: str) -> tuple[str, int, int]:
    real_time, real_time_ns = time.time, time.time_ns
    time.time = lambda: real_time() + 3600  # type: ignore[assignment]
    time.time_ns = lambda: real_time_ns() + 3600 * 10**9  # type: ignore[assignment]
    adapter = RedisAdapter.from_url(url, prefix)
    breaker = adapter.circuit_breaker("skew", failure_threshold=1, reset_timeout=60_000)
    try:
        breaker.call(lambda: "ran")
        outcome, retry_after = "ran", 0
    except CircuitOpenError as exc:
        outcome, retry_after = "refused", exc.retry_after
    failures = adapter.record_failure("skew-count", 10)
    return outcome, retry_after, failures


def test_worker_with_clock_one_hour_ahead_changes_nothing(redis_server, prefix):
    adapter = RedisAdapter.from_url(redis_server.url, prefix)
    adapter.set_state("skew", CircuitBreakerState("open", 1))  # opens now, on Redis time
    (result,) = run_workers(_skewed_worker, [(redis_server.url, prefix)])
    outcome, retry_after, failures = result
    assert outcome == "refused" and 30_000 < retry_after <= 60_000
    assert failures == 1
    seconds, micros = adapter.client.time()
    redis_now = seconds * 1000 + micros // 1000
    recorded = adapter.get_state("skew-count").last_failure_time
    assert abs(redis_now - recorded) < 30_000  # Redis TIME, not the worker's +1 h clock
    assert adapter.get_state("skew").state == "open"
    adapter.disconnect()
