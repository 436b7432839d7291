"""Locks: one acquire+release, and a 4-process contended read-modify-write counter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from contention import WORKERS, WorkerPool
from harness import PREFIX, Case, Comparison, Env, Runner, sync_runner

from goscope_redis import RedisAdapter

TTL_MS = 10_000
THINK_S = 0.001


@contextmanager
def ours_acquire_release(env: Env) -> Iterator[Runner]:
    """``acquire()`` then ``handle.release()`` (one script each)."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)

    def once() -> None:
        handle = adapter.acquire("bench:lock", TTL_MS)
        assert handle is not None
        handle.release()

    yield sync_runner(once)


@contextmanager
def redispy_acquire_release(env: Env) -> Iterator[Runner]:
    """redis-py ``Lock``: ``acquire(blocking=False)`` then ``release()``."""
    client = env.client

    def once() -> None:
        lock = client.lock("bench:redispy-lock", timeout=TTL_MS / 1000)
        assert lock.acquire(blocking=False)
        lock.release()

    yield sync_runner(once)


def contended(kind: str, think_s: float = 0.0) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup running ``WORKERS`` processes of ``kind`` that increment under the lock.

    ``goscope``: ``with adapter.lock(key, ttl, wait=None)``; ``redis-py``: ``with
    client.lock(name, timeout=...)`` (blocking, default sleep 0.1 s).
    """

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        with WorkerPool(kind, env.url, think_s=think_s) as pool:
            yield pool.run

    return setup


COMPARISONS = (
    Comparison(
        "lock.acquire_release",
        Case("goscope acquire+release", ours_acquire_release),
        Case("redis-py Lock acquire+release", redispy_acquire_release),
        1.3,
    ),
    Comparison(
        "lock.contention",
        Case(f"goscope lock() x{WORKERS} procs", contended("goscope")),
        Case(f"redis-py Lock x{WORKERS} procs", contended("redis-py")),
        1.5,
        unit="incr",
        iterations=500,
        samples=3,
        quick_iterations=40,
        quick_samples=1,
        note=f"{WORKERS} processes x N lock-protected GET/+1/SET increments; exact count asserted",
    ),
    Comparison(
        "lock.contention.think",
        Case(f"goscope lock() x{WORKERS} procs", contended("goscope", THINK_S)),
        Case(f"redis-py Lock x{WORKERS} procs", contended("redis-py", THINK_S)),
        None,
        unit="incr",
        iterations=250,
        samples=2,
        quick_iterations=10,
        quick_samples=1,
        note=f"as lock.contention, plus {THINK_S * 1000:g} ms of work outside the lock each time",
    ),
)
