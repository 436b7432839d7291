"""Locks: one acquire+release, and a read-modify-write counter at 1 (uncontended), 2, 4 and 8
processes.

The contention runs form two scaling series (back to back, and with 1 ms of work outside the
lock between increments). Every run of a series does the same total number of increments
(``TOTAL`` and ``THINK_TOTAL``), split across its processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import redis_lock
from contention import WORKERS, WorkerPool
from handoff import Handoff
from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

from goscope_redis import AsyncRedisAdapter, RedisAdapter

TTL_MS = 10_000
THINK_S = 0.001
TOTAL = 2000
"""Increments per contention sample, whatever the number of processes."""
THINK_TOTAL = 1000
CONTENTION_BUDGET_S = 15.0
"""A contention sample takes seconds; the default per-comparison budget would cut it too short."""
SERIES = "lock contention against redis-py Lock, by number of processes"
THINK_SERIES = "lock contention with 1 ms think time against redis-py Lock, by number of processes"


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


@contextmanager
def ours_acquire_release_async(env: Env) -> Iterator[Runner]:
    """``await acquire()`` then ``await handle.release()`` on ``redis.asyncio``."""
    adapter = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX)

    async def once() -> None:
        handle = await adapter.acquire("bench:alock", TTL_MS)
        assert handle is not None
        await handle.release()

    yield async_runner(env, once)


@contextmanager
def redispy_acquire_release_async(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``Lock``: ``await acquire(blocking=False)`` then ``await release()``."""
    client = env.aclient

    async def once() -> None:
        lock = client.lock("bench:redispy-alock", timeout=TTL_MS / 1000)
        assert await lock.acquire(blocking=False)
        await lock.release()

    yield async_runner(env, once)


@contextmanager
def redis_lock_acquire_release(env: Env) -> Iterator[Runner]:
    """python-redis-lock ``Lock``: ``acquire(blocking=False)`` then ``release()``."""
    client = env.client

    def once() -> None:
        lock = redis_lock.Lock(client, "bench:python-redis-lock", expire=TTL_MS // 1000)
        assert lock.acquire(blocking=False)
        lock.release()

    yield sync_runner(once)


def contended(
    kind: str, think_s: float = 0.0, workers: int = WORKERS
) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup running ``workers`` processes of ``kind`` that increment under the lock.

    ``goscope``: ``with adapter.lock(key, ttl, wait=None)``; ``redis-py``: ``with
    client.lock(name, timeout=...)`` (blocking, default sleep 0.1 s).
    """

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        with WorkerPool(kind, env.url, workers=workers, think_s=think_s) as pool:
            yield pool.run

    return setup


def contention(workers: int, think_s: float = 0.0) -> Comparison:
    """The contention comparison at ``workers`` processes (the 4-process one carries a target)."""
    base = "lock.contention.think" if think_s else "lock.contention"
    name = base if workers == WORKERS else f"{base}.{workers}p"
    total = THINK_TOTAL if think_s else TOTAL
    extra = f", plus {think_s * 1000:g} ms of work outside the lock each time" if think_s else ""
    return Comparison(
        name,
        Case(f"goscope lock() x{workers} procs", contended("goscope", think_s, workers)),
        Case(f"redis-py Lock x{workers} procs", contended("redis-py", think_s, workers)),
        1.5 if workers == WORKERS and not think_s else None,
        unit="incr",
        iterations=total // workers,
        # The target run gets five pairs: a slow phase of this VM (seconds, 30-40 % slower) can
        # spoil two of them and still leave the median to the other three.
        samples=5 if workers == WORKERS and not think_s else 2,
        quick_iterations=max(5, 40 // workers),
        quick_samples=1,
        budget_s=CONTENTION_BUDGET_S,
        # A run has a fixed cost besides its increments (redis-py's waiters sleep 100 ms when
        # a worker finishes): a warm-up of a twentieth spread it over so few increments that
        # the budget cut the run to ~300 per process instead of performance.md's 4 x 500.
        warm_fraction=4,
        in_quick=workers == WORKERS,  # the other sizes use the same machinery, only slower
        scale=(THINK_SERIES if think_s else SERIES, workers),
        note=f"{workers} processes x N lock-protected GET/+1/SET increments{extra}; "
        "exact count asserted",
    )


def handed_off(kind: str) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup timing handoffs from a holder process to this one (``handoff.py``)."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        with Handoff(kind, env.url) as handoff:
            yield handoff.run

    return setup


HANDOFF = Comparison(
    "lock.handoff",
    Case("goscope lock(): release to acquired", handed_off("goscope")),
    Case("redis-py Lock: release to acquired", handed_off("redis-py")),
    None,
    unit="handoff",
    iterations=10,
    samples=3,
    quick_iterations=2,
    quick_samples=1,
    budget_s=CONTENTION_BUDGET_S,
    warm_fraction=10,
    in_quick=False,
    note="a holder process holds 5-104 ms, then releases; one waiter blocked in lock(): the "
    "time from the release to the waiter holding the lock",
)
"""What the contention target asks for ("waking waiters on release instead of sleeping a fixed
100 ms"), measured without the batch length that decides the peer's contention figure."""


COMPARISONS = (
    Comparison(
        "lock.acquire_release",
        Case("goscope acquire+release", ours_acquire_release),
        Case("redis-py Lock acquire+release", redispy_acquire_release),
        1.3,
    ),
    Comparison(
        "lock.acquire_release.async",
        Case("goscope async acquire+release", ours_acquire_release_async),
        Case("redis.asyncio Lock acquire+release", redispy_acquire_release_async),
        1.3,
        note="the sync target, held on the async face too",
    ),
    Comparison(
        "lock.acquire_release.python-redis-lock",
        Case("goscope acquire+release", ours_acquire_release),
        Case("python-redis-lock acquire+release", redis_lock_acquire_release),
        None,
        note="python-redis-lock: SET NX EX, release script with a signal list (no fencing)",
    ),
    # One process is the series' base: no contention, the same four round trips per increment
    # on both sides, so what the others add over it is what contention costs each lock.
    *(contention(workers) for workers in (1, 2, WORKERS, 8)),
    *(contention(workers, THINK_S) for workers in (2, WORKERS, 8)),
    HANDOFF,
)
