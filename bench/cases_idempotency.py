"""Idempotency records: first execution (``begin`` + ``complete``) and replay (``begin``).

Targets are round trips, not ratios: a first execution costs 2 (claim, store) and a replay 1
(the claim script returns the stored record in the same reply). The peers are the raw redis-py
commands a hand-rolled version would send, for context only: ``SET NX PX`` + ``SET`` for a first
execution, and ``SET NX PX GET`` (one round trip that claims or returns the stored bytes) for a
replay. The raw side moves bytes; ours also encodes and decodes the JSON result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

from goscope_redis import AsyncRedisAdapter, RedisAdapter

RESULT = {"status": 201, "order": 42, "total": 19.99, "items": ["a", "b"]}
RAW = json.dumps(RESULT, separators=(",", ":")).encode()
LEASE_MS = 30_000
TTL_MS = 600_000
"""Completed records expire after the run (every first execution writes a fresh key)."""
REPLAY_KEY = "order:replayed"


def _fresh_keys(kind: str) -> Callable[[], str]:
    """A new key per call, so every ``begin`` is a first execution."""
    numbers = count()
    return lambda: f"{kind}:{next(numbers)}"


@contextmanager
def ours_first(env: Env) -> Iterator[Runner]:
    """``idempotency.begin(key)`` then ``complete(claim, result)`` on a fresh key."""
    idem = RedisAdapter(env.client, key_prefix=PREFIX).idempotency
    fresh = _fresh_keys("first")

    def once() -> None:
        claim = idem.begin(fresh(), lease=LEASE_MS)
        assert claim.status == "started"
        assert idem.complete(claim, RESULT, TTL_MS)

    yield sync_runner(once)


@contextmanager
def raw_first(env: Env) -> Iterator[Runner]:
    """redis-py ``SET key owner NX PX`` then ``SET key result PX``."""
    client, fresh = env.client, _fresh_keys(f"{PREFIX}raw-first")

    def once() -> None:
        key = fresh()
        assert client.set(key, "owner", nx=True, px=LEASE_MS)
        client.set(key, RAW, px=TTL_MS)

    yield sync_runner(once)


@contextmanager
def ours_replay(env: Env) -> Iterator[Runner]:
    """``idempotency.begin(key)`` on a completed key (returns the stored record)."""
    idem = RedisAdapter(env.client, key_prefix=PREFIX).idempotency
    idem.set(REPLAY_KEY, RESULT)

    def once() -> None:
        assert idem.begin(REPLAY_KEY, lease=LEASE_MS).status == "completed"

    yield sync_runner(once)


@contextmanager
def raw_replay(env: Env) -> Iterator[Runner]:
    """redis-py ``SET key owner NX PX GET`` on a key holding the result."""
    client, key = env.client, f"{PREFIX}raw-replayed"
    client.set(key, RAW)

    def once() -> None:
        assert client.set(key, "owner", nx=True, px=LEASE_MS, get=True) is not None

    yield sync_runner(once)


@contextmanager
def ours_afirst(env: Env) -> Iterator[Runner]:
    """Async ``begin`` + ``complete`` on a fresh key."""
    idem = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX).idempotency
    fresh = _fresh_keys("afirst")

    async def once() -> None:
        claim = await idem.begin(fresh(), lease=LEASE_MS)
        assert claim.status == "started"
        assert await idem.complete(claim, RESULT, TTL_MS)

    yield async_runner(env, once)


@contextmanager
def raw_afirst(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``SET NX PX`` then ``SET PX``."""
    client, fresh = env.aclient, _fresh_keys(f"{PREFIX}raw-afirst")

    async def once() -> None:
        key = fresh()
        assert await client.set(key, "owner", nx=True, px=LEASE_MS)
        await client.set(key, RAW, px=TTL_MS)

    yield async_runner(env, once)


@contextmanager
def ours_areplay(env: Env) -> Iterator[Runner]:
    """Async ``begin`` on a completed key."""
    idem = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX).idempotency
    env.loop.run_until_complete(idem.set(REPLAY_KEY, RESULT))

    async def once() -> None:
        assert (await idem.begin(REPLAY_KEY, lease=LEASE_MS)).status == "completed"

    yield async_runner(env, once)


@contextmanager
def raw_areplay(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``SET NX PX GET`` on a key holding the result."""
    client, key = env.aclient, f"{PREFIX}raw-areplayed"
    env.loop.run_until_complete(client.set(key, RAW))

    async def once() -> None:
        found: Any = await client.set(key, "owner", nx=True, px=LEASE_MS, get=True)
        assert found is not None

    yield async_runner(env, once)


COMPARISONS = (
    Comparison(
        "idem.first.sync",
        Case("goscope begin+complete", ours_first),
        Case("redis-py SET NX PX + SET", raw_first),
        None,
        note="fresh key each call; expect 2 round trips",
    ),
    Comparison(
        "idem.replay.sync",
        Case("goscope begin (completed key)", ours_replay),
        Case("redis-py SET NX PX GET", raw_replay),
        None,
        note="completed key; expect 1 round trip",
    ),
    Comparison(
        "idem.first.async",
        Case("goscope async begin+complete", ours_afirst),
        Case("redis.asyncio SET NX PX + SET", raw_afirst),
        None,
        note="fresh key each call; expect 2 round trips",
    ),
    Comparison(
        "idem.replay.async",
        Case("goscope async begin (completed)", ours_areplay),
        Case("redis.asyncio SET NX PX GET", raw_areplay),
        None,
        note="completed key; expect 1 round trip",
    ),
)
