"""Locks across real OS processes: mutual exclusion and increasing fencing tokens."""

from __future__ import annotations

import random
import time
from typing import Any

import redis

from goscope_redis import LockTimeoutError, RedisAdapter

from ..procs import run_workers


def _locked_increments(url: str, prefix: str, n: int) -> list[int]:
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    tokens = []
    for _ in range(n):
        with adapter.lock("counter", ttl=5_000, wait=30_000) as handle:
            # A deliberately racy read-modify-write: only the lock keeps it exact.
            inside = raw.incr(f"{prefix}inside")
            assert inside == 1, "two holders inside the critical section"
            value = int(raw.get(f"{prefix}value") or 0)
            raw.set(f"{prefix}value", value + 1)
            tokens.append(handle.fencing_token)
            raw.decr(f"{prefix}inside")
    adapter.disconnect()
    return tokens


def test_lock_protected_counter_is_exact_across_4_processes(redis_server, prefix):
    results = run_workers(_locked_increments, [(redis_server.url, prefix, 100)] * 4)
    client = redis.Redis(port=redis_server.port)
    assert int(client.get(f"{prefix}value")) == 400
    tokens = [t for worker in results for t in worker]
    assert len(set(tokens)) == 400  # every acquisition got its own token
    for worker in results:
        assert worker == sorted(worker)  # increasing within each process
    assert len(set(tokens)) == 400  # unique across processes (and increasing per process)
    client.close()


def _grab_tokens(url: str, prefix: str, n: int) -> list[int]:
    adapter = RedisAdapter.from_url(url, prefix)
    tokens = []
    for _ in range(n):
        handle = adapter.lock("fenced", ttl=2_000, wait=30_000).__enter__()
        tokens.append(handle.fencing_token)
        handle.release()
    adapter.disconnect()
    return tokens


def test_fencing_tokens_are_unique_and_increasing_across_processes(redis_server, prefix):
    results = run_workers(_grab_tokens, [(redis_server.url, prefix, 50)] * 4)
    flat = sorted(t for worker in results for t in worker)
    assert len(set(flat)) == 200


def _hog(url: str, prefix: str, seconds: float) -> tuple[int, float]:
    """Take the lock again the moment it is released, for ``seconds``; count the turns."""
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    raw.set(f"{prefix}hog-running", 1)
    turns, last_turn = 0, 0.0
    deadline = time.time() + seconds
    while time.time() < deadline:
        with adapter.lock("hot", ttl=5_000):
            turns += 1
            last_turn = time.time()
    adapter.disconnect()
    return turns, last_turn


def _latecomer(url: str, prefix: str) -> tuple[float, float]:
    """Wait for the hog to be running, then wait for the lock; when did we get it, how long?"""
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    while not raw.get(f"{prefix}hog-running"):
        time.sleep(0.01)
    time.sleep(0.2)
    started = time.time()
    with adapter.lock("hot", ttl=5_000):
        got = time.time()
    adapter.disconnect()
    return got, got - started


def test_a_waiter_is_not_starved_by_a_holder_that_takes_the_lock_back_at_once(redis_server, prefix):
    (turns, hog_last), (got, waited) = run_workers(
        _hog_and_latecomer, [(redis_server.url, prefix, "hog"), (redis_server.url, prefix, "late")]
    )
    assert turns > 50  # the hog really was hammering the lock
    assert got < hog_last  # the latecomer got a turn while the hog was still at it
    assert waited < 1.5  # bounded by the starvation limit (50 ms), with room for a loaded CI


def _hog_and_latecomer(url: str, prefix: str, role: str) -> tuple[Any, Any]:
    return _hog(url, prefix, 3.0) if role == "hog" else _latecomer(url, prefix)


def _hold(url: str, prefix: str, seconds: float) -> float:
    adapter = RedisAdapter.from_url(url, prefix)
    with adapter.lock("long", ttl=5_000):
        adapter.client.set(f"{prefix}held", 1)
        time.sleep(seconds)
        released = time.time()
    adapter.disconnect()
    return released


def _wait_for_long_hold(url: str, prefix: str) -> tuple[float, int]:
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    while not raw.get(f"{prefix}held"):
        time.sleep(0.01)
    before = _evalsha_calls(raw)
    with adapter.lock("long", ttl=5_000):
        got = time.time()
    attempts = _evalsha_calls(raw) - before
    adapter.disconnect()
    return got, attempts


def _evalsha_calls(raw: redis.Redis) -> int:
    return int(raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def _hold_or_wait(url: str, prefix: str, role: str) -> Any:
    return _hold(url, prefix, 1.5) if role == "hold" else _wait_for_long_hold(url, prefix)


def test_a_waiter_on_a_long_hold_does_not_poll_and_is_woken_by_the_release(redis_server, prefix):
    released, (got, evalshas) = run_workers(
        _hold_or_wait, [(redis_server.url, prefix, "hold"), (redis_server.url, prefix, "wait")]
    )
    assert 0 <= got - released < 0.3  # woken by the release, not by a timeout
    # A 1.5 s wait: a handful of attempts (and the holder's release), not one per poll interval.
    assert evalshas < 30


def _hold_until_reserved(url: str, prefix: str) -> float:
    """Hold the lock until a waiter has reserved the next turn (and parked), then release."""
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    with adapter.lock("turn", ttl=10_000):
        raw.set(f"{prefix}held", 1)
        while not raw.exists(f"{prefix}lock:{{turn}}:starving"):
            time.sleep(0.005)
        time.sleep(0.05)  # the reserved waiter sees the same holder again: a long hold
        released = time.time()
    adapter.disconnect()
    return released


def _block_on_signal(url: str, prefix: str) -> Any:
    """Another waiter, blocked on the signal list before the reserved one (raw BLPOP)."""
    raw = redis.Redis.from_url(url)
    while not raw.get(f"{prefix}held"):
        time.sleep(0.005)
    woken = raw.blpop([f"{prefix}lock:{{turn}}:signal"], timeout=1.5)
    return None if woken is None else time.time()


def _reserve(url: str, prefix: str) -> float:
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    while not raw.get(f"{prefix}held"):
        time.sleep(0.005)
    time.sleep(0.1)  # after the raw waiter is blocked
    with adapter.lock("turn", ttl=10_000):
        got = time.time()
    adapter.disconnect()
    return got


def _turn_role(url: str, prefix: str, role: str) -> Any:
    roles = {"hold": _hold_until_reserved, "block": _block_on_signal, "reserve": _reserve}
    return roles[role](url, prefix)


def test_the_release_wakes_the_waiter_that_reserved_the_turn(redis_server, prefix):
    # The reserved waiter parks on its own turn list through a long hold. Were it blocked on
    # the signal list like the others, the waiter blocked there first would take the release's
    # token, and the lock would idle, kept for a waiter still asleep, until it woke.
    roles = [(redis_server.url, prefix, role) for role in ("hold", "block", "reserve")]
    released, woken, got = run_workers(_turn_role, roles)
    assert 0 <= got - released < 0.2
    assert woken is None or woken > got  # the holder's release woke nobody else


def _short_sleeping_holds(url: str, prefix: str, seed: int) -> tuple[int, float]:
    """60 increments, each holding the lock 1-3 ms (a sleep); timeouts and the longest wait."""
    rng = random.Random(seed)
    adapter = RedisAdapter.from_url(url, prefix)
    raw = adapter.client
    timeouts, longest = 0, 0.0
    for _ in range(60):
        began = time.monotonic()
        try:
            with adapter.lock("busy", ttl=5_000, wait=1_000):
                longest = max(longest, time.monotonic() - began)
                value = int(raw.get(f"{prefix}busy-value") or 0)
                time.sleep(0.001 + rng.random() * 0.002)
                raw.set(f"{prefix}busy-value", value + 1)
        except LockTimeoutError:
            timeouts += 1
    adapter.disconnect()
    return timeouts, longest


def test_holds_of_a_few_ms_starve_nobody_across_5_processes(redis_server, prefix):
    # Holds longer than a poll interval are where the reserved waiter used to lose its turn:
    # blocked on the shared signal list, it was passed over again and again (4 s waits, timeouts
    # of a 1 s wait). Parked on its own turn list, every waiter gets the lock within a few turns.
    results = run_workers(_short_sleeping_holds, [(redis_server.url, prefix, i) for i in range(5)])
    assert [timeouts for timeouts, _ in results] == [0] * 5
    assert int(redis.Redis(port=redis_server.port).get(f"{prefix}busy-value")) == 300
    assert max(longest for _, longest in results) < 0.75  # about 5 holds, with room for CI
