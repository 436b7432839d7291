"""The physical floor: what one round trip costs before any client library runs.

A raw socket ``PING`` (a few bytes written, ``+PONG`` read, nothing parsed) is the least a round
trip can cost on this machine with this pinning; redis-py's ``PING`` and ``GET``, sync and
async, show what the client library adds. Every operation's time is at least its round trips
times the raw figure, so a target can be checked against that bound.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from harness import PREFIX, Env
from tables import Study, Table

ROUNDS = 5
N = 2000
QUICK_N = 100


def _best(env: Env, run: Callable[[int], float]) -> float:
    """The best of ``ROUNDS`` runs, in µs per operation (the least disturbed by the machine)."""
    n = QUICK_N if env.quick else N
    run(n // 10)
    return min(run(n) for _ in range(ROUNDS)) * 1e6 / n


def raw_socket(env: Env) -> Callable[[int], float]:
    """``n`` raw ``PING`` round trips on a fresh plain socket; seconds (connecting excluded)."""

    def run(n: int) -> float:
        with socket.create_connection(("127.0.0.1", env.server.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start = time.perf_counter()
            for _ in range(n):
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
                while not reply.endswith(b"\r\n"):
                    reply += sock.recv(64)
            return time.perf_counter() - start

    return run


def raw_asyncio(env: Env) -> Callable[[int], float]:
    """``n`` raw ``PING`` round trips over asyncio streams (the event loop's own floor)."""

    async def timed(n: int) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", env.server.port)
        try:
            start = time.perf_counter()
            for _ in range(n):
                writer.write(b"PING\r\n")
                await reader.readuntil(b"\r\n")
            return time.perf_counter() - start
        finally:
            writer.close()
            await writer.wait_closed()

    return lambda n: env.loop.run_until_complete(timed(n))


def sync_calls(fn: Callable[[], Any]) -> Callable[[int], float]:
    """``n`` calls of ``fn``; seconds."""

    def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - start

    return run


def async_calls(env: Env, fn: Callable[[], Awaitable[Any]]) -> Callable[[int], float]:
    """``n`` awaited calls of ``fn`` on the bench loop; seconds."""

    async def timed(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await fn()
        return time.perf_counter() - start

    return lambda n: env.loop.run_until_complete(timed(n))


def run(env: Env) -> Table:
    """The floor table."""
    key = f"{PREFIX}floor"
    env.client.set(key, b"x" * 64)
    cases = [
        ("raw socket PING (no client library)", raw_socket(env)),
        ("redis-py PING", sync_calls(env.client.ping)),
        ("redis-py GET (64 B)", sync_calls(lambda: env.client.get(key))),
        ("asyncio streams PING (no client library)", raw_asyncio(env)),
        ("redis.asyncio PING", async_calls(env, env.aclient.ping)),
        ("redis.asyncio GET (64 B)", async_calls(env, lambda: env.aclient.get(key))),
    ]
    rows = tuple((label, round(_best(env, fn), 1)) for label, fn in cases)
    notes = (f"best of {ROUNDS} runs of {N} round trips each, on the bench's pinned CPU",)
    return Table("floor", "The floor: one round trip", ("round trip", "µs"), rows, notes)


STUDIES = (Study("study.floor", run),)
