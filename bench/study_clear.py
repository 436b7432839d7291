"""How ``clear()`` scales, and proof that it never blocks Redis for long.

For 10 000 and 100 000 cache keys, ``clear()`` (``SCAN`` 1000 at a time, ``UNLINK`` each batch)
is timed against the blocking way (``KEYS`` then one ``DEL`` of everything). During each, Redis
itself records how long each of those commands ran (``SLOWLOG`` with a 0 µs threshold: the
median and the longest) and its latency monitor's peak (``LATENCY LATEST``, whole ms, threshold
1 ms), while a prober process on another CPU pings Redis back to back and reports its worst
round trip. An idle row gives the prober's noise floor (scheduling on a shared machine), so a
blocked Redis stands out from it. Every row is the median of ``REPEATS`` runs: Redis measures
wall time, so a run where the OS preempted Redis shows up as one long command.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness import PREFIX, Env, snapshot
from prober import Prober
from tables import Study, Table

from goscope_redis import RedisAdapter

SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
CHUNK = 1000
CLEAR_PREFIX = PREFIX + "clear:"
IDLE_S = 0.2
REPEATS = 3
WORK_COMMANDS = frozenset({b"SCAN", b"UNLINK", b"KEYS", b"DEL", b"PING"})
"""The commands whose run time the table reports (PING only matters in the idle row)."""
_SETTINGS = {
    "latency-monitor-threshold": "1",
    "slowlog-log-slower-than": "0",
    "slowlog-max-len": "200000",
}


@contextmanager
def monitored(env: Env) -> Iterator[None]:
    """Turn on the latency monitor and log every command's run time; restore after."""
    client = env.client
    saved = {name: client.config_get(name)[name] for name in _SETTINGS}
    client.execute_command("CONFIG", "SET", *[part for pair in _SETTINGS.items() for part in pair])
    try:
        yield
    finally:
        client.execute_command("CONFIG", "SET", *[part for pair in saved.items() for part in pair])


def _fill(env: Env, size: int) -> None:
    """``size`` small cache values, written with pipelined ``MSET`` (not timed)."""
    adapter = RedisAdapter(env.client, key_prefix=CLEAR_PREFIX)
    for start in range(0, size, CHUNK):
        adapter.set_many({f"k{i}": i for i in range(start, min(size, start + CHUNK))})


def ours(env: Env) -> int:
    """``RedisAdapter.clear()``."""
    return RedisAdapter(env.client, key_prefix=CLEAR_PREFIX).clear()


def keys_then_del(env: Env) -> int:
    """The blocking way: ``KEYS pattern`` then one ``DEL`` of every key found."""
    found = env.client.keys(CLEAR_PREFIX + "cache:*")
    return int(env.client.delete(*found)) if found else 0


def _other_cpus(env: Env) -> list[int]:
    others = [c for c in range(os.cpu_count() or 1) if c not in env.pinned]
    return others[:1] or env.pinned


def _server_figures(env: Env, work: frozenset[bytes]) -> tuple[list[int], int]:
    """(run times in µs of the ``work`` commands Redis logged; latency monitor peak in ms), then
    reset both logs."""
    entries: list[Any] = env.client.execute_command("SLOWLOG", "GET", "-1")
    times = [int(entry[2]) for entry in entries if bytes(entry[3][0]).upper() in work]
    latest: list[Any] = env.client.execute_command("LATENCY", "LATEST")
    peak = max((int(event[3]) for event in latest), default=0)
    env.client.execute_command("SLOWLOG", "RESET")
    env.client.execute_command("LATENCY", "RESET")
    return times, peak


def _once(env: Env, size: int, label: str, work: Callable[[], int]) -> tuple[float, ...]:
    """One timed run: (ms, commands, median cmd µs, longest cmd µs, peak ms, PING p99, max)."""
    counted = WORK_COMMANDS if size == 0 else WORK_COMMANDS - {b"PING"}
    _server_figures(env, counted)  # start from empty logs
    before = snapshot(env.probe)
    with Prober(env.server.port, _other_cpus(env)) as probe:
        start = time.perf_counter()
        deleted = work()
        elapsed_ms = (time.perf_counter() - start) * 1000
    calls = snapshot(env.probe).minus(before).calls
    if deleted != size:
        raise AssertionError(f"{label} deleted {deleted} keys, expected {size}")
    times, peak_ms = _server_figures(env, counted)
    commands = sum(calls.get(name.decode().lower(), 0) for name in counted if name != b"PING")
    ping = probe.result
    typical = statistics.median(times) if times else 0.0
    return (
        elapsed_ms,
        commands,
        typical,
        max(times, default=0),
        peak_ms,
        ping["p99_us"],
        ping["max_us"],
    )


def _row(
    env: Env, size: int, label: str, work: Callable[[], int], fill: bool = True
) -> tuple[Any, ...]:
    """The median over ``REPEATS`` runs of each figure."""
    runs = []
    for _ in range(1 if env.quick else REPEATS):
        if fill:
            _fill(env, size)
        runs.append(_once(env, size, label, work))
    medians = [statistics.median(column) for column in zip(*runs)]
    return (size, label, *(round(m, 2) if m < 100 else round(m) for m in medians))


def run(env: Env) -> Table:
    """The ``clear()`` table: idle floor, then ours and the blocking way at each size."""
    with monitored(env):
        rows = [_row(env, 0, "idle (prober only)", lambda: time.sleep(IDLE_S) or 0, fill=False)]
        for size in QUICK_SIZES if env.quick else SIZES:
            for label, fn in (("goscope clear()", ours), ("KEYS + DEL", keys_then_del)):
                rows.append(_row(env, size, label, lambda fn=fn: fn(env)))
    columns = (
        "keys",
        "method",
        "time ms",
        "commands",
        "median cmd µs",
        "longest cmd µs",
        "LATENCY peak ms",
        "PING p99 µs",
        "PING max µs",
    )
    notes = (
        f"each row: the median of {REPEATS} runs; cmd µs: how long Redis ran each SCAN/UNLINK",
        "(or KEYS/DEL) command, from SLOWLOG (PING in the idle row); LATENCY peak: the latency",
        "monitor's max event (threshold 1 ms; 0 = none); PING: a separate process on another",
        "CPU pinging back to back during the work (its worst round trip is Redis's longest stall).",
    )
    return Table(
        "clear", "clear(): time and how long Redis is blocked", columns, tuple(rows), notes
    )


STUDIES = (Study("study.clear", run),)
