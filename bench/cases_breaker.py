"""Circuit breakers on the closed path (a successful call): sync vs pybreaker, async vs cashews.

Our closed call is one ``EVALSHA`` (admission reads the failure count; a success after a count
of 0 writes nothing). pybreaker with ``CircuitRedisStorage`` reads its state key before each call
and resets its counter after a success; cashews' ``circuit_breaker`` checks two flag keys and
counts the call in a sorted set (a script) before running it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pybreaker
from cashews import Cache
from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

from goscope_redis import AsyncRedisAdapter, RedisAdapter

FAILURES = 5
RESET_S = 30
CASHEWS_PERIOD_S = 1
"""cashews counts calls in a sorted set over this sliding window and stops adding at 9999
entries. A 1 s window stays below that at bench rates, so every call does the full count (as at
a real service's rates) instead of switching to a cheaper read-only path half-way through."""


def ok() -> int:
    """The protected call: succeeds at once, so only the breaker's own cost is measured."""
    return 1


async def aok() -> int:
    """The async protected call."""
    return 1


@contextmanager
def ours_sync(env: Env) -> Iterator[Runner]:
    """``RedisAdapter.circuit_breaker(name).call(fn)``."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    breaker = adapter.circuit_breaker(
        "bench-breaker", failure_threshold=FAILURES, reset_timeout=RESET_S * 1000
    )
    yield sync_runner(lambda: breaker.call(ok))


@contextmanager
def pybreaker_sync(env: Env) -> Iterator[Runner]:
    """pybreaker ``CircuitBreaker`` with its state in Redis (``CircuitRedisStorage``)."""
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, env.client, namespace="bench-pybreaker"
    )
    breaker = pybreaker.CircuitBreaker(
        fail_max=FAILURES, reset_timeout=RESET_S, state_storage=storage
    )
    yield sync_runner(lambda: breaker.call(ok))


@contextmanager
def ours_async(env: Env) -> Iterator[Runner]:
    """``AsyncRedisAdapter.circuit_breaker(name).call(afn)``."""
    adapter = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX)
    breaker = adapter.circuit_breaker(
        "bench-abreaker", failure_threshold=FAILURES, reset_timeout=RESET_S * 1000
    )
    yield async_runner(env, lambda: breaker.call(aok))


@contextmanager
def cashews_cache(env: Env) -> Iterator[Cache]:
    """A cashews ``Cache`` on the bench server (it opens its own connection pool)."""
    cache = Cache()
    cache.setup(env.url)
    env.loop.run_until_complete(cache.init())
    try:
        yield cache
    finally:
        env.loop.run_until_complete(cache.close())


@contextmanager
def cashews_async(env: Env) -> Iterator[Runner]:
    """cashews ``@cache.circuit_breaker(errors_rate=50, period=1, ttl=30)``."""
    with cashews_cache(env) as cache:

        @cache.circuit_breaker(errors_rate=50, period=CASHEWS_PERIOD_S, ttl=RESET_S)
        async def guarded() -> int:
            return 1

        yield async_runner(env, guarded)


COMPARISONS = (
    Comparison(
        "breaker.closed.sync",
        Case("goscope CircuitBreaker.call", ours_sync),
        Case("pybreaker + CircuitRedisStorage", pybreaker_sync),
        1.5,
        note="closed breaker, successful call",
    ),
    Comparison(
        "breaker.closed.async",
        Case("goscope AsyncCircuitBreaker.call", ours_async),
        Case("cashews @circuit_breaker (redis)", cashews_async),
        3.0,
        note="closed breaker, successful call; cashews uses its own connection pool",
    ),
)
