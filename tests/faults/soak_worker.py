"""One soak worker: a random mix of every primitive until its deadline (sync or async).

Names are drawn from small fixed sets, so the keys that may legitimately outlive the run (fence
counters, wake-up lists, open breakers, the lock-guarded counters) are bounded by design, not by
the number of operations. Data TTLs are short, so everything else is gone soon after the run.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
from typing import Any

from goscope_redis import (
    AsyncRedisAdapter,
    Checkpoint,
    CircuitOpenError,
    IdempotencyInProgressError,
    RedisAdapter,
    cached,
    idempotent,
)
from tests.faults.targets import reporting

DATA_TTL_MS = 1_000
LOCK_NAMES = [f"job:{i}" for i in range(6)]
COUNTERS = 3
BREAKERS = [f"svc:{i}" for i in range(3)]
REQUESTS = [f"req:{i}" for i in range(8)]
BREAKER_OPTIONS = {"failure_threshold": 3, "reset_timeout": 150, "probe_lease": 150}


class Flaky(Exception):
    """The protected dependency failed (on purpose)."""


def open_fds() -> int:
    """This process's open file descriptors."""
    return len(os.listdir("/proc/self/fd"))


@reporting
def run(url: str, prefix: str, seconds: float, index: int, events: Any, go: Any) -> None:
    """Report ``ready``, wait for ``go``, mix operations for ``seconds``, report ``done``."""
    fds_before = open_fds()
    events.put(("ready", index))
    go.wait(120)
    if index % 2:
        counts = asyncio.run(_async_main(url, prefix, seconds, index))
    else:
        mix = SyncMix(RedisAdapter.from_url(url, prefix), index)
        counts = mix.run_for(seconds)
        mix.adapter.disconnect()
    gc.collect()
    events.put(("done", {"counts": counts, "fds_before": fds_before, "fds_after": open_fds()}))


async def _async_main(url: str, prefix: str, seconds: float, index: int) -> dict[str, int]:
    mix = AsyncMix(AsyncRedisAdapter.from_url(url, prefix), index)
    counts = await mix.run_for(seconds)
    await mix.adapter.disconnect()
    return counts


def _fail_sometimes(roll: float) -> None:
    if roll < 0.3:
        raise Flaky


class _Mix:
    def __init__(self, adapter: Any, index: int) -> None:
        self.adapter = adapter
        self.idem = adapter.idempotency
        self.index = index
        self.rng = random.Random(index)
        self.counts: dict[str, int] = {}
        self.seq = 0

    def bump(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def breaker(self) -> Any:
        return self.adapter.circuit_breaker(self.rng.choice(BREAKERS), **BREAKER_OPTIONS)

    def checkpoint(self) -> Checkpoint:
        self.seq += 1
        return Checkpoint(f"task:{self.index}", self.seq, {"row": self.seq})


class SyncMix(_Mix):
    """The operations of a sync worker."""

    def __init__(self, adapter: RedisAdapter, index: int) -> None:
        super().__init__(adapter, index)
        self.report = cached(ttl=DATA_TTL_MS, key="report:{n}", adapter=adapter)(lambda n: n * 2)
        self.charge = idempotent(
            key="charge:{n}", ttl=DATA_TTL_MS, lease=DATA_TTL_MS, wait=0, adapter=adapter
        )(lambda n: n)
        self.ops = [self.cache, self.counter, self.try_lock, self.call, self.save, self.claim]
        self.ops += [lambda n: self.report(n=n), self.charged]

    def run_for(self, seconds: float) -> dict[str, int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.rng.choice(self.ops)(self.rng.randrange(8))
            self.bump("ops")
        return self.counts

    def cache(self, n: int) -> None:
        self.adapter.set(f"k:{n}", {"n": n}, ttl=DATA_TTL_MS)
        self.adapter.get_many([f"k:{i}" for i in range(4)])
        self.adapter.add(f"a:{n}", n, ttl=DATA_TTL_MS)
        self.adapter.delete(f"k:{self.rng.randrange(8)}")

    def counter(self, n: int) -> None:
        name = f"counter:{n % COUNTERS}"
        with self.adapter.lock(name, ttl=2_000, wait=30_000):
            value = self.adapter.get(name, 0)  # racy on purpose: only the lock keeps it exact
            self.adapter.set(name, value + 1)
        self.bump(name)

    def try_lock(self, n: int) -> None:
        handle = self.adapter.acquire(LOCK_NAMES[n % len(LOCK_NAMES)], 2_000)
        if handle is not None:
            handle.extend()
            handle.release()

    def call(self, n: int) -> None:
        try:
            self.breaker().call(_fail_sometimes, self.rng.random())
        except (Flaky, CircuitOpenError):
            pass

    def save(self, n: int) -> None:
        self.adapter.save_checkpoint(self.checkpoint(), ttl=DATA_TTL_MS)
        self.adapter.load_latest_checkpoint(f"task:{self.index}")

    def claim(self, n: int) -> None:
        claim = self.idem.begin(REQUESTS[n], lease=DATA_TTL_MS)
        if claim.status == "started" and self.rng.random() < 0.8:
            self.idem.complete(claim, {"done": True}, ttl=DATA_TTL_MS)
        elif claim.status == "started":
            self.idem.abandon(claim)

    def charged(self, n: int) -> None:
        try:
            self.charge(n=n)
        except IdempotencyInProgressError:
            pass


class AsyncMix(_Mix):
    """The operations of an async worker (the same mix, awaited)."""

    def __init__(self, adapter: AsyncRedisAdapter, index: int) -> None:
        super().__init__(adapter, index)

        async def double(n: int) -> int:
            return n * 2

        async def same(n: int) -> int:
            return n

        self.report = cached(ttl=DATA_TTL_MS, key="report:{n}", adapter=adapter)(double)
        self.charge = idempotent(
            key="charge:{n}", ttl=DATA_TTL_MS, lease=DATA_TTL_MS, wait=0, adapter=adapter
        )(same)
        self.ops = [self.cache, self.counter, self.try_lock, self.call, self.save, self.claim]
        self.ops += [lambda n: self.report(n=n), self.charged]

    async def run_for(self, seconds: float) -> dict[str, int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.rng.choice(self.ops)(self.rng.randrange(8))
            self.bump("ops")
        return self.counts

    async def cache(self, n: int) -> None:
        await self.adapter.set(f"k:{n}", {"n": n}, ttl=DATA_TTL_MS)
        await self.adapter.get_many([f"k:{i}" for i in range(4)])
        await self.adapter.add(f"a:{n}", n, ttl=DATA_TTL_MS)
        await self.adapter.delete(f"k:{self.rng.randrange(8)}")

    async def counter(self, n: int) -> None:
        name = f"counter:{n % COUNTERS}"
        async with self.adapter.lock(name, ttl=2_000, wait=30_000):
            value = await self.adapter.get(name, 0)
            await self.adapter.set(name, value + 1)
        self.bump(name)

    async def try_lock(self, n: int) -> None:
        handle = await self.adapter.acquire(LOCK_NAMES[n % len(LOCK_NAMES)], 2_000)
        if handle is not None:
            await handle.extend()
            await handle.release()

    async def call(self, n: int) -> None:
        async def flaky(roll: float) -> None:
            _fail_sometimes(roll)

        try:
            await self.breaker().call(flaky, self.rng.random())
        except (Flaky, CircuitOpenError):
            pass

    async def save(self, n: int) -> None:
        await self.adapter.save_checkpoint(self.checkpoint(), ttl=DATA_TTL_MS)
        await self.adapter.load_latest_checkpoint(f"task:{self.index}")

    async def claim(self, n: int) -> None:
        claim = await self.idem.begin(REQUESTS[n], lease=DATA_TTL_MS)
        if claim.status == "started" and self.rng.random() < 0.8:
            await self.idem.complete(claim, {"done": True}, ttl=DATA_TTL_MS)
        elif claim.status == "started":
            await self.idem.abandon(claim)

    async def charged(self, n: int) -> None:
        try:
            await self.charge(n=n)
        except IdempotencyInProgressError:
            pass
