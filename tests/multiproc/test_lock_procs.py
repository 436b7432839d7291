"""Locks across real OS processes: mutual exclusion and increasing fencing tokens."""

from __future__ import annotations

import redis

from goscope_redis import RedisAdapter

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
