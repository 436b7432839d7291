"""Lock handoff latency: how long a blocked waiter stays blocked after the holder releases.

This measures what ``performance.md`` asks the contention target to show ("by waking waiters on
release instead of sleeping a fixed 100 ms") directly, with no batch length to line up with the
peer's retry sleep (see ``contention.peer_step_notes``). A holder process takes the lock and
holds it for a while; the bench process, blocked in the same kind of ``lock()`` a worker would
use, records when it gets the lock; the holder records the moment just before it releases.
``time.perf_counter`` is the system-wide monotonic clock on Linux, so the two processes' times
compare directly. The holds follow a fixed spread of 5-104 ms, the same for both sides, so a
waiter that retries on a timer meets every phase of its timer.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import TracebackType
from typing import Any

import redis
from harness import PREFIX, Sample, reap

TTL_MS = 10_000
_TIMEOUT_S = 60.0


def hold_seconds(i: int) -> float:
    """The ``i``-th hold: 5-104 ms, spread by a stride coprime with 100."""
    return (5 + (37 * i) % 100) / 1000


@contextmanager
def _locked(kind: str, url: str) -> Iterator[Callable[[], AbstractContextManager[Any]]]:
    """The blocking lock context both processes of ``kind`` use, on a client of its own."""
    if kind == "goscope":
        from goscope_redis import RedisAdapter

        with RedisAdapter.from_url(url, key_prefix=PREFIX) as adapter:
            yield lambda: adapter.lock("handoff", TTL_MS, wait=None)
        return
    with redis.Redis.from_url(url) as client:
        yield lambda: client.lock(f"{PREFIX}handoff:redis-py-lock", timeout=TTL_MS / 1000)


def holder_main(kind: str, url: str, conn: Any) -> None:
    """Serve holds until told to stop (``None``): take the lock, say so, hold, release."""
    with _locked(kind, url) as locked:
        while (hold := conn.recv()) is not None:
            with locked():
                conn.send("held")
                time.sleep(hold)
                released_at = time.perf_counter()  # the release is the with block's exit
            conn.send(released_at)


class Handoff:
    """A holder process of ``kind`` and, in this process, a waiter of the same ``kind``."""

    def __init__(self, kind: str, url: str) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=holder_main, args=(kind, url, child), daemon=True)
        self._kind, self._url = kind, url
        self._stack = ExitStack()  # the waiter's client, closed at exit
        self._locked: Callable[[], AbstractContextManager[Any]] | None = None
        self._next = 0

    def __enter__(self) -> Handoff:
        self._locked = self._stack.enter_context(_locked(self._kind, self._url))
        self._proc.start()
        return self

    def run(self, n: int) -> Sample:
        """``n`` handoffs; the sample's time is their summed latency (release to acquired)."""
        latencies = [self._once() for _ in range(n)]
        return Sample(sum(latencies), n, {"worst_ms": max(latencies) * 1000})

    def _once(self) -> float:
        self._conn.send(hold_seconds(self._next))
        self._next += 1
        if not self._conn.poll(_TIMEOUT_S) or self._conn.recv() != "held":
            raise TimeoutError("the lock holder process did not take the lock")
        assert self._locked is not None, "use Handoff as a context manager"
        with self._locked():
            acquired_at = time.perf_counter()
            if not self._conn.poll(_TIMEOUT_S):
                raise TimeoutError("the lock holder process did not report its release")
            released_at: float = self._conn.recv()
        return acquired_at - released_at

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._conn.send(None)
        reap(self._proc)
        self._conn.close()
        self._stack.close()
