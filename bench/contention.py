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
from harness import PREFIX, Sample

WORKERS = 4
TTL_MS = 10_000
_TIMEOUT_S = 300.0


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
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._client.close()
