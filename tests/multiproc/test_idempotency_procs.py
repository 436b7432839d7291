"""Idempotency claims across real OS processes: one winner, replays, takeover, stale writers."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from typing import Any

import redis

from goscope_redis import RedisIdempotencyAdapter

from ..procs import run_workers

KEY = "order:1"


def _race_begin(url: str, prefix: str, barrier: Any) -> dict[str, Any]:
    idem = RedisIdempotencyAdapter.from_url(url, prefix)
    idem.connect()  # warm connection and scripts, so the race is on begin() alone
    barrier.wait(60)
    claim = idem.begin(KEY, fingerprint="body", lease=30_000)
    result: dict[str, Any] = {"status": claim.status, "pid": os.getpid()}
    if claim.status == "started":
        time.sleep(0.3)  # the work; the others see it in progress meanwhile
        assert idem.complete(claim, {"winner": os.getpid()}, ttl=60_000)
    else:
        deadline = time.monotonic() + 30
        replay = claim
        while replay.status == "in_progress" and time.monotonic() < deadline:
            time.sleep(min(replay.retry_after or 50, 50) / 1000)
            replay = idem.begin(KEY, fingerprint="body")
        result["replay"] = replay.status, replay.record and replay.record.value
    result["mismatch"] = idem.begin(KEY, fingerprint="other body").status
    idem.disconnect()
    return result


def test_exactly_one_of_16_processes_starts_and_the_rest_replay(redis_server, prefix):
    barrier = mp.get_context("spawn").Barrier(16)
    results = run_workers(_race_begin, [(redis_server.url, prefix, barrier)] * 16)
    started = [r for r in results if r["status"] == "started"]
    assert len(started) == 1
    winner = {"winner": started[0]["pid"]}
    assert all(r["status"] == "in_progress" for r in results if r is not started[0])
    assert all(r["replay"] == ("completed", winner) for r in results if r is not started[0])
    assert all(r["mismatch"] == "mismatch" for r in results)


def _claim_and_exit(url: str, prefix: str) -> str:
    idem = RedisIdempotencyAdapter.from_url(url, prefix)
    status = idem.begin(KEY, lease=300).status
    idem.disconnect()
    return status  # exits without complete() or abandon(), as a crashed worker would


def test_lease_of_a_vanished_process_is_taken_over(redis_server, prefix):
    assert run_workers(_claim_and_exit, [(redis_server.url, prefix)]) == ["started"]
    idem = RedisIdempotencyAdapter.from_url(redis_server.url, prefix)
    deadline = time.monotonic() + 5
    claim = idem.begin(KEY)
    while claim.status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.05)
        claim = idem.begin(KEY)
    assert claim.status == "started"
    assert idem.complete(claim, "recovered")
    assert idem.get(KEY).value == "recovered"
    idem.disconnect()


def _stale_worker(url: str, prefix: str, claimed: Any, taken_over: Any, tried: Any) -> bool:
    idem = RedisIdempotencyAdapter.from_url(url, prefix)
    claim = idem.begin(KEY, lease=200)
    assert claim.status == "started"
    claimed.set()
    taken_over.wait(30)  # paused (GC, swap...) past its lease while another process took over
    ok = idem.complete(claim, "stale")
    tried.set()
    idem.disconnect()
    return ok


def _fresh_worker(url: str, prefix: str, claimed: Any, taken_over: Any, tried: Any) -> str:
    idem = RedisIdempotencyAdapter.from_url(url, prefix)
    claimed.wait(30)
    time.sleep(0.5)  # well past the stale worker's 200 ms lease
    claim = idem.begin(KEY, lease=30_000)
    taken_over.set()
    tried.wait(30)
    assert idem.complete(claim, "fresh")
    idem.disconnect()
    return claim.status


def _role(role: str, *args: Any) -> Any:
    return (_stale_worker if role == "stale" else _fresh_worker)(*args)


def test_stale_complete_from_a_paused_process_is_rejected(redis_server, prefix):
    ctx = mp.get_context("spawn")
    args = (redis_server.url, prefix, ctx.Event(), ctx.Event(), ctx.Event())
    stale_ok, fresh_status = run_workers(_role, [("stale", *args), ("fresh", *args)])
    assert fresh_status == "started"
    assert stale_ok is False
    client = redis.Redis(port=redis_server.port)
    idem = RedisIdempotencyAdapter(client, prefix)
    assert idem.get(KEY).value == "fresh"
    client.close()
