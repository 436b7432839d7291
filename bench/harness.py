"""The bench harness: a private pinned redis-server, paired A/B timing, round-trip counting.

Theory of operation
-------------------
Absolute times drift from machine to machine (and from minute to minute on a shared box), so
every figure is a *ratio* against a peer measured in the same run. Each :class:`Comparison`
opens both sides, warms them up, then takes ``samples`` pairs of timed runs, alternating which
side goes first (A B, B A, A B ...) so that drift hits both sides alike. The ratio of a pair is
``peer time / our time`` (our throughput over the peer's); the reported ratio is the median of
the pairs, with their min and max.

Round trips are counted by Redis itself: around every timed run the harness reads
``INFO stats commandstats`` on a separate connection. ``total_reads_processed`` counts request
reads (one per round trip for small payloads, a pipeline included); ``commandstats`` counts
commands, *including those a Lua script runs* (so an ``EVALSHA`` running GET+SET counts 3).
The probe's own ``INFO`` is subtracted from both.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio

from goscope_redis.testing import RedisServer

PREFIX = "bench:"


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run: ``ops`` operations took ``seconds``."""

    seconds: float
    ops: int
    extra: Mapping[str, float] = field(default_factory=dict)
    """Side figures a runner wants reported (their median goes into the results)."""


Runner = Callable[[int], Sample]
"""Runs ``n`` iterations of one side and times them (setup excluded)."""


@dataclass(frozen=True, slots=True)
class Case:
    """One side of a comparison: a label and a context manager that yields its runner."""

    label: str
    setup: Callable[[Env], AbstractContextManager[Runner]]


@dataclass(frozen=True, slots=True)
class Comparison:
    """``ours`` against ``peer``; ``target_ratio`` is the minimum throughput ratio (or None)."""

    name: str
    ours: Case
    peer: Case
    target_ratio: float | None
    unit: str = "op"
    iterations: int = 2000
    samples: int = 7
    quick_iterations: int = 60
    quick_samples: int = 2
    note: str = ""
    budget_s: float | None = None
    """Seconds of timed work (both sides, every sample) this comparison may take at most; the
    iterations are cut to fit once the warm-up has shown the cost per operation. ``None``: the
    run's default (``--budget``)."""
    warm_fraction: int = 20
    """The warm-up runs ``iterations // warm_fraction`` twice, the second time to estimate the
    cost per iteration that :attr:`budget_s` is fitted with."""
    in_quick: bool = True
    """Whether ``--quick`` (the smoke run) includes this comparison."""
    scale: tuple[str, int] | None = None
    """(series title, size) when this comparison is one point of a scaling series; the report
    prints each series as one table (size, both sides, ratio)."""

    def plan(self, quick: bool) -> tuple[int, int]:
        """(iterations per sample, sample pairs) for a full or a ``--quick`` run."""
        return (
            (self.quick_iterations, self.quick_samples)
            if quick
            else (self.iterations, self.samples)
        )


@dataclass(slots=True)
class Env:
    """What cases share: the server, one client of each kind, an event loop, the INFO probe."""

    server: RedisServer
    loop: asyncio.AbstractEventLoop
    client: redis.Redis
    aclient: redis.asyncio.Redis
    probe: redis.Redis
    quick: bool
    pinned: list[int] = field(default_factory=list)
    budget_s: float = 3.0
    """Default seconds of timed work per comparison (see :attr:`Comparison.budget_s`)."""

    @property
    def url(self) -> str:
        """The server's ``redis://`` URL."""
        return self.server.url


# --- runners ------------------------------------------------------------------------------------


def sync_runner(fn: Callable[[], Any]) -> Runner:
    """A runner that calls ``fn()`` ``n`` times."""

    def run(n: int) -> Sample:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return Sample(time.perf_counter() - start, n)

    return run


def async_runner(env: Env, fn: Callable[[], Awaitable[Any]]) -> Runner:
    """A runner that awaits ``fn()`` ``n`` times inside ``env.loop`` (loop start-up excluded)."""

    async def timed(n: int) -> Sample:
        start = time.perf_counter()
        for _ in range(n):
            await fn()
        return Sample(time.perf_counter() - start, n)

    def run(n: int) -> Sample:
        return env.loop.run_until_complete(timed(n))

    return run


# --- server, pinning, environment ---------------------------------------------------------------


def pin_self(cpu: int | None) -> list[int]:
    """Pin this process (and so every child it starts later) to ``cpu``; return the CPU set.

    A loopback round trip costs about 15 µs when client and server share a CPU and 55-80 µs when
    they don't; unpinned runs jump between the two.
    """
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    os.sched_setaffinity(0, {cpu})
    return [cpu]


def pin_pid(pid: int, cpus: list[int]) -> None:
    """Pin every thread of ``pid`` (its affinity is inherited already; this makes sure)."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, set(cpus))
        except OSError:
            pass


def reap(proc: Any, timeout_s: float = 10.0) -> None:
    """Wait up to ``timeout_s`` for a helper process told to stop, then kill it."""
    proc.join(timeout=timeout_s)
    if proc.is_alive():
        proc.kill()
        proc.join()


@contextmanager
def environment(quick: bool, cpu: int | None, budget_s: float = 3.0) -> Iterator[Env]:
    """Start a private pinned redis-server and the shared clients; tear everything down after."""
    pinned = pin_self(cpu)
    server = RedisServer().start()
    loop = asyncio.new_event_loop()
    try:
        if server.pid is not None and cpu is not None:
            pin_pid(server.pid, pinned)
        client = redis.Redis.from_url(server.url)
        aclient = redis.asyncio.Redis.from_url(server.url)
        probe = redis.Redis.from_url(server.url)
        env = Env(server, loop, client, aclient, probe, quick, pinned, budget_s)
        try:
            yield env
        finally:
            client.close()
            probe.close()
            loop.run_until_complete(aclient.aclose())
    finally:
        loop.close()
        server.stop()


# --- round trips ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counters:
    """A snapshot of the server's request reads and per-command call counts."""

    reads: int
    calls: dict[str, int]

    def minus(self, before: Counters) -> Counters:
        """What happened between ``before`` and this snapshot, less this snapshot's own INFO."""
        calls = {k: v - before.calls.get(k, 0) for k, v in self.calls.items()}
        calls = {k: v for k, v in calls.items() if v and k != "info"}
        return Counters(self.reads - before.reads - 1, calls)


def snapshot(probe: redis.Redis) -> Counters:
    """Read ``INFO stats commandstats`` (one round trip on the probe connection)."""
    info: dict[str, Any] = probe.info("stats", "commandstats")
    calls = {
        key.removeprefix("cmdstat_"): int(value["calls"])
        for key, value in info.items()
        if key.startswith("cmdstat_")
    }
    return Counters(int(info["total_reads_processed"]), calls)


# --- measuring ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SideLog:
    """Everything measured for one side of a comparison."""

    label: str
    us_per_op: list[float] = field(default_factory=list)
    ops: int = 0
    reads: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    extras: dict[str, list[float]] = field(default_factory=dict)

    def add(self, sample: Sample, delta: Counters) -> None:
        """Record one timed run and the server counters it moved."""
        self.us_per_op.append(sample.seconds * 1e6 / sample.ops)
        for name, value in sample.extra.items():
            self.extras.setdefault(name, []).append(value)
        self.ops += sample.ops
        self.reads += delta.reads
        for command, count in delta.calls.items():
            self.calls[command] = self.calls.get(command, 0) + count


@dataclass(frozen=True, slots=True)
class Measured:
    """The raw outcome of one comparison, ready for the report."""

    comparison: Comparison
    ours: SideLog
    peer: SideLog
    ratios: list[float]
    iterations: int
    seconds: float
    """Wall time of the whole comparison, set-up and warm-up included."""


def _timed(env: Env, run: Runner, n: int, log: SideLog) -> float:
    gc.collect()
    before = snapshot(env.probe)
    sample = run(n)
    log.add(sample, snapshot(env.probe).minus(before))
    return sample.seconds / sample.ops


def _warm_up(run: Runner, n: int, fraction: int) -> float:
    """Run ``n // fraction`` iterations twice (connections, script cache, code paths); seconds
    per op."""
    warm = max(1, n // fraction)
    run(warm)
    start = time.perf_counter()
    run(warm)
    return (time.perf_counter() - start) / warm


def fit_budget(n: int, samples: int, per_op_s: float, budget_s: float) -> int:
    """The iterations per sample that keep ``samples`` pairs within ``budget_s`` (at least
    a tenth of ``n``, so a slow side still gets a meaningful sample)."""
    if per_op_s <= 0:
        return n
    fitted = int(budget_s / (samples * per_op_s))
    return max(1, min(n, max(fitted, n // 10)))


def measure(env: Env, comparison: Comparison) -> Measured:
    """Warm both sides up, then time ``samples`` A/B pairs, alternating which side goes first."""
    began = time.perf_counter()
    n, samples = comparison.plan(env.quick)
    ours_log, peer_log = SideLog(comparison.ours.label), SideLog(comparison.peer.label)
    ratios: list[float] = []
    with comparison.ours.setup(env) as ours, comparison.peer.setup(env) as peer:
        per_op = _warm_up(ours, n, comparison.warm_fraction)
        per_op += _warm_up(peer, n, comparison.warm_fraction)
        if not env.quick:
            n = fit_budget(n, samples, per_op, comparison.budget_s or env.budget_s)
        for i in range(samples):
            if i % 2 == 0:
                ours_t = _timed(env, ours, n, ours_log)
                peer_t = _timed(env, peer, n, peer_log)
            else:
                peer_t = _timed(env, peer, n, peer_log)
                ours_t = _timed(env, ours, n, ours_log)
            ratios.append(peer_t / ours_t)
    seconds = time.perf_counter() - began
    return Measured(comparison, ours_log, peer_log, ratios, n, seconds)


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of ``values``."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}
