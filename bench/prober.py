"""A PING prober: a separate process that measures how long Redis takes to answer, back to back.

Redis runs one command at a time, so while a long command runs every other client waits. A
prober that pings in a tight loop during some work sees that wait as its worst round trip.
It runs in its own process (never a thread of the bench: the GIL would add the bench's own
Python time to every ping) and imports only the standard library, so it starts fast.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import statistics
import time
from types import TracebackType
from typing import Any

from harness import reap

_PONG = b"+PONG\r\n"


def _ping(sock: socket.socket) -> int:
    """One PING round trip in nanoseconds."""
    start = time.perf_counter_ns()
    sock.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(_PONG):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("redis closed the prober's connection")
        reply += chunk
    return time.perf_counter_ns() - start


def probe_main(port: int, cpus: list[int], stop: Any, results: Any) -> None:
    """Ping until ``stop`` is set; put ("ready",) once probing, then the latencies' summary."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        latencies = [_ping(sock)]
        results.put(("ready",))
        while not stop.is_set():
            latencies.append(_ping(sock))
    results.put(("done", summary(latencies)))


def summary(latencies_ns: list[int]) -> dict[str, float]:
    """Count, median, 99th percentile and max, in µs."""
    us = sorted(v / 1000 for v in latencies_ns)
    p99 = us[min(len(us) - 1, int(len(us) * 0.99))]
    return {"pings": len(us), "p50_us": statistics.median(us), "p99_us": p99, "max_us": us[-1]}


class Prober:
    """``with Prober(port, cpus) as probe: work()``; then ``probe.result`` holds the summary."""

    def __init__(self, port: int, cpus: list[int]) -> None:
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._results: Any = ctx.Queue()
        self._proc = ctx.Process(
            target=probe_main, args=(port, cpus, self._stop, self._results), daemon=True
        )
        self.result: dict[str, float] = {}

    def __enter__(self) -> Prober:
        self._proc.start()
        message = self._results.get(timeout=60)
        if message[0] != "ready":
            raise RuntimeError(f"prober failed to start: {message!r}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        try:
            _, self.result = self._results.get(timeout=60)
        finally:
            reap(self._proc)
