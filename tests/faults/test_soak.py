"""Soak: 16 processes (8 sync, 8 async) mix every primitive against one private Redis.

``GOSCOPE_SOAK_SECONDS`` sets the duration (5 s in the normal run; ``scripts/ci-extra`` runs 60).
At the end: the lock-guarded counters are exact; every worker's file descriptors are back to
its baseline; the server's connections (``CLIENT LIST``) are back to the baseline; and once the
short data TTLs have passed, only keys that are meant to outlive a run remain, in numbers
bounded by design (fence counters, wake-up lists, open breakers, the counters).
"""

from __future__ import annotations

import os
import re
import time

import redis

from tests.faults import soak_worker
from tests.faults.children import Child

WORKERS = 16
SECONDS = float(os.environ.get("GOSCOPE_SOAK_SECONDS", "5"))


def _clients(raw: redis.Redis) -> int:
    return len(raw.client_list())


def test_soak_returns_keys_connections_and_fds_to_baseline(fault_server, prefix):
    raw = redis.Redis(port=fault_server.port)
    baseline_clients = _clients(raw)
    children = [
        Child(soak_worker.run, fault_server.url, prefix, SECONDS, i) for i in range(WORKERS)
    ]
    try:
        for child in children:
            child.expect("ready", timeout=120)
        for child in children:
            child.go.set()
        peak = _watch_connections(raw, SECONDS)
        reports = [child.expect("done", timeout=SECONDS + 120) for child in children]
    finally:
        for child in children:
            child.close()
    assert sum(r["counts"]["ops"] for r in reports) > WORKERS * 10
    for report in reports:
        assert report["fds_after"] == report["fds_before"], report
    assert peak <= baseline_clients + WORKERS * 4, f"{peak} connections at the peak"
    _assert_counters_exact(raw, prefix, reports)
    _wait_for(lambda: _clients(raw) == baseline_clients, "connections back to baseline")
    _assert_no_leaked_keys(raw, prefix)
    raw.close()


def _watch_connections(raw: redis.Redis, seconds: float) -> int:
    peak = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, _clients(raw))
        time.sleep(0.25)
    return peak


def _assert_counters_exact(raw: redis.Redis, prefix: str, reports: list[dict]) -> None:
    for i in range(soak_worker.COUNTERS):
        name = f"counter:{i}"
        done = sum(r["counts"].get(name, 0) for r in reports)
        stored = raw.get(f"{prefix}cache:{{{name}}}")
        assert int(stored or 0) == done, f"{name}: {stored} stored, {done} increments made"


def _wait_for(check, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# Keys meant to outlive a run: each family is bounded by the fixed name sets of the workers.
_LASTING = [
    (re.compile(r"lock:\{.*\}:fence"), "fence counters"),  # no expiry, by design
    (re.compile(r"lock:\{.*\}:signal"), "wake-up lists"),  # expire after 60 s
    (re.compile(r"circuit:\{svc:\d\}(:probes)?"), "breaker records"),  # an open one never expires
    (re.compile(r"cache:\{counter:\d\}"), "the guarded counters"),  # written without TTL
]


def _assert_no_leaked_keys(raw: redis.Redis, prefix: str) -> None:
    locks = [k for k in _keys(raw, prefix) if re.fullmatch(r"lock:\{[^}]*\}", k)]
    assert locks == [], f"locks still held after every worker exited: {locks}"
    time.sleep(soak_worker.DATA_TTL_MS / 1000 * 2.5)  # data TTLs, breaker idle TTLs
    families: dict[str, int] = {}
    for key in _keys(raw, prefix):
        family = next((name for rx, name in _LASTING if rx.fullmatch(key)), None)
        assert family is not None, f"leaked key {key!r} (ttl {raw.pttl(prefix + key)} ms)"
        families[family] = families.get(family, 0) + 1
    names = len(soak_worker.LOCK_NAMES) + soak_worker.COUNTERS + 8 * 2  # + @cached/@idempotent
    assert families.get("fence counters", 0) <= names
    assert families.get("breaker records", 0) <= 2 * len(soak_worker.BREAKERS)


def _keys(raw: redis.Redis, prefix: str) -> list[str]:
    return [k.decode()[len(prefix) :] for k in raw.scan_iter(match=f"{prefix}*", count=1000)]
