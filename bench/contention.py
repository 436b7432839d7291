"""A pool of worker processes that race for one lock to increment a shared Redis counter.

The workers are spawned once per side and reused for every sample, so process start-up and
imports are never timed. A run hands each worker a count, the workers meet at a barrier, and the
run lasts from the first worker's start to the last worker's end. The counter is read,
incremented in Python and written back, so any overlap of critical sections loses an update;
the final count is checked to be exact.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import redis
from harness import PREFIX, Sample, reap

WORKERS = 4
TTL_MS = 10_000
_TIMEOUT_S = 300.0
PEER_SLEEP_S = 0.1
"""redis-py ``Lock``'s default retry sleep (``sleep=0.1``), which the peer workers keep."""


def _counter(kind: str) -> str:
    return f"{PREFIX}contention:{kind}:counter"


def _increment(client: redis.Redis, counter: str) -> None:
    value = int(client.get(counter) or 0)
    client.set(counter, value + 1)


def _critical_section(kind: str, url: str) -> Callable[[], AbstractContextManager[Any]]:
    """A factory of the lock context each increment runs under."""
    if kind == "goscope":
        from goscope_redis import RedisAdapter

        adapter = RedisAdapter.from_url(url, key_prefix=PREFIX)
        return lambda: adapter.lock("contention", TTL_MS, wait=None)
    client = redis.Redis.from_url(url)
    return lambda: client.lock(f"{PREFIX}contention:redis-py-lock", timeout=TTL_MS / 1000)


def worker_main(
    kind: str, url: str, think_s: float, tasks: Any, results: Any, barrier: Any
) -> None:
    """Serve runs until told to stop (``None``): wait at the barrier, then increment ``n`` times.

    ``think_s`` is work done outside the lock between increments (a sleep), as a real worker
    would do; with 0 the workers hammer the lock back to back.
    """
    locked = _critical_section(kind, url)
    client = redis.Redis.from_url(url)
    counter = _counter(kind)
    while (n := tasks.get()) is not None:
        try:
            barrier.wait(_TIMEOUT_S)
            start = time.perf_counter()
            for _ in range(n):
                with locked():
                    _increment(client, counter)
                if think_s:
                    time.sleep(think_s)
            results.put(("ok", start, time.perf_counter()))
        except Exception as exc:
            results.put(("error", repr(exc), 0.0))


class WorkerPool:
    """``WORKERS`` spawned processes of one ``kind`` (``"goscope"`` or ``"redis-py"``)."""

    def __init__(self, kind: str, url: str, workers: int = WORKERS, think_s: float = 0.0) -> None:
        ctx = mp.get_context("spawn")
        self.kind, self.url, self.workers = kind, url, workers
        self._tasks: Any = ctx.Queue()
        self._results: Any = ctx.Queue()
        self._barrier = ctx.Barrier(workers)
        self._procs = [
            ctx.Process(
                target=worker_main,
                args=(kind, url, think_s, self._tasks, self._results, self._barrier),
                daemon=True,
            )
            for _ in range(workers)
        ]
        self._client = redis.Redis.from_url(url)

    def __enter__(self) -> WorkerPool:
        for proc in self._procs:
            proc.start()
        return self

    def run(self, n: int) -> Sample:
        """Each worker does ``n`` increments; raise unless the counter ends at exactly ``n*W``."""
        counter = _counter(self.kind)
        self._client.delete(counter)
        for _ in self._procs:
            self._tasks.put(n)
        spans = [self._result() for _ in self._procs]
        first_start = min(start for start, _ in spans)
        elapsed = max(end for _, end in spans) - first_start
        total = int(self._client.get(counter) or 0)
        expected = n * self.workers
        assert total == expected, f"{self.kind}: lost updates, counter {total} != {expected}"
        # Fairness: near 100 every worker progressed all along; near 100/W they took turns
        # running to completion while the others slept.
        first_done = min(end for _, end in spans) - first_start
        return Sample(elapsed, expected, {"first_worker_done_pct": 100 * first_done / elapsed})

    def _result(self) -> tuple[float, float]:
        try:
            status, start, end = self._results.get(timeout=_TIMEOUT_S)
        except queue.Empty:
            raise TimeoutError(f"{self.kind} contention workers gave no result") from None
        if status != "ok":
            raise RuntimeError(f"{self.kind} contention worker failed: {start}")
        return float(start), float(end)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for _ in self._procs:
            self._tasks.put(None)
        for proc in self._procs:
            reap(proc)
        self._client.close()


def _peer_seconds(batch_s: float, periods: int, workers: int) -> float:
    """A peer run's length when each handoff waits ``periods`` retry sleeps (see below)."""
    return (workers - 1) * periods * PEER_SLEEP_S + batch_s


def peer_step_notes(records: list[dict[str, Any]]) -> tuple[str, ...]:
    """Notes on where the peer's retry sleep puts its ``WORKERS``-process figure.

    redis-py ``Lock`` waiters sleep ``PEER_SLEEP_S`` between tries, all in step from the
    barrier, and the holder takes the lock again at once after each release, so one worker runs
    its whole batch while the others sleep, and each handoff waits for their next try. The run
    then lasts ``(W - 1) * k * sleep + batch``, where ``k`` is the number of sleeps a batch
    spans: a step function of the batch length. Read from the 1-process row (the peer's speed
    with nobody waiting) and the ``WORKERS``-process row of the series.
    """
    by_size = {r["scale"]["size"]: r for r in records}
    if 1 not in by_size or WORKERS not in by_size:
        return ()
    base, target = by_size[1], by_size[WORKERS]
    n = target["iterations"]
    peer_us, ours_us = base["peer"]["us_per_op"]["median"], base["ours"]["us_per_op"]["median"]
    batch_s = n * peer_us / 1e6
    periods = max(1, round(batch_s / PEER_SLEEP_S))  # the nearest edge: this many sleeps
    below = _peer_seconds(batch_s, periods, WORKERS) * 1e6 / (n * WORKERS)
    above = _peer_seconds(batch_s, periods + 1, WORKERS) * 1e6 / (n * WORKERS)
    sleep_ms, edge_ms = PEER_SLEEP_S * 1000, periods * PEER_SLEEP_S * 1000
    goal = target["target_ratio"] or 1.5
    return (
        f"redis-py Lock's waiters retry every {sleep_ms:.0f} ms, in step, and its holder takes "
        f"the lock again at once: one worker runs its whole batch ({n} increments, "
        f"{batch_s * 1000:.1f} ms at the peer's 1-process speed) while the others sleep, and "
        "each handoff waits for their next retry.",
        f"So the peer's {WORKERS}-process time steps with the batch length: a batch just under "
        f"{edge_ms:.0f} ms gives ~{below:.0f} µs/incr, just over it ~{above:.0f}. Against "
        f"ours with no contention at all ({ours_us:.0f} µs/incr, the 1-process row) that is "
        f"{below / ours_us:.2f}x and {above / ours_us:.2f}x at best: a {goal:g}x target can "
        "hold on the upper step only.",
        f"Here the batch is {abs(batch_s * 1000 - edge_ms):.1f} ms "
        f"{'over' if batch_s * 1000 >= edge_ms else 'under'} {edge_ms:.0f} ms; the closer to "
        "the edge, the more samples land on either step.",
    )
