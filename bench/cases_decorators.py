"""Decorators on their hot paths: ``@cached`` hits and ``@circuit`` on a closed breaker.

``@cached`` is measured with its default key (the function's qualified name plus a digest of
the arguments), as a user who writes ``@cached(ttl=...)`` gets it, against a raw ``GET`` of the
very key it reads (the peer does no key building and no decoding), and against cashews'
``@cache(ttl=...)``, which also builds its key from the arguments. ``cached.hit.sync.key``
repeats the sync hit with an explicit ``key=`` template, to show what the default key costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pybreaker
from cases_breaker import FAILURES, RESET_S, cashews_cache
from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

from goscope_redis import AsyncRedisAdapter, RedisAdapter, cached, circuit

TTL_MS = 600_000
ITEM = 42
VALUE = {"id": ITEM, "name": "widget", "price": 9.99, "tags": ["a", "b"], "active": True}


def _sync_loader(adapter: RedisAdapter, key: str | None = None) -> Any:
    """A sync function behind ``@cached``, warmed so that every timed call is a hit."""

    @cached(ttl=TTL_MS, key=key, adapter=adapter)
    def load_item(item_id: int) -> dict[str, Any]:
        return VALUE

    load_item(ITEM)
    return load_item


def _async_loader(env: Env, adapter: AsyncRedisAdapter) -> Any:
    """An async function behind ``@cached``, warmed."""

    @cached(ttl=TTL_MS, adapter=adapter)
    async def load_item(item_id: int) -> dict[str, Any]:
        return VALUE

    env.loop.run_until_complete(load_item(ITEM))
    return load_item


def _stored_key(env: Env) -> str:
    """The Redis key the warmed-up sync loader reads (found, not rebuilt, so it cannot drift)."""
    found = [k for k in env.client.scan_iter(match=f"{PREFIX}dec:cache:*") if b"load_item" in k]
    assert len(found) == 1, found
    return bytes(found[0]).decode()


@contextmanager
def ours_cached(env: Env) -> Iterator[Runner]:
    """``@cached(ttl=...)`` hit, default key."""
    load_item = _sync_loader(RedisAdapter(env.client, key_prefix=PREFIX + "dec:"))
    yield sync_runner(lambda: load_item(ITEM))


@contextmanager
def ours_cached_key(env: Env) -> Iterator[Runner]:
    """``@cached(ttl=..., key="item:{item_id}")`` hit."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX + "dec-key:")
    load_item = _sync_loader(adapter, key="item:{item_id}")
    yield sync_runner(lambda: load_item(ITEM))


@contextmanager
def raw_get(env: Env) -> Iterator[Runner]:
    """redis-py ``GET`` of the key ``@cached`` reads."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX + "dec:")
    _sync_loader(adapter)
    client, key = env.client, _stored_key(env)
    yield sync_runner(lambda: client.get(key))


@contextmanager
def ours_acached(env: Env) -> Iterator[Runner]:
    """Async ``@cached(ttl=...)`` hit, default key."""
    load_item = _async_loader(env, AsyncRedisAdapter(env.aclient, key_prefix=PREFIX + "adec:"))
    yield async_runner(env, lambda: load_item(ITEM))


@contextmanager
def raw_aget(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``GET`` of the same bytes (the sync loader's key)."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX + "dec:")
    _sync_loader(adapter)
    client, key = env.aclient, _stored_key(env)
    yield async_runner(env, lambda: client.get(key))


@contextmanager
def cashews_cached(env: Env) -> Iterator[Runner]:
    """cashews ``@cache(ttl=...)`` hit (redis backend, default key from the arguments)."""
    with cashews_cache(env) as cache:

        @cache(ttl=TTL_MS // 1000)
        async def load_item(item_id: int) -> dict[str, Any]:
            return VALUE

        env.loop.run_until_complete(load_item(ITEM))
        yield async_runner(env, lambda: load_item(ITEM))


def ok() -> int:
    """The guarded call: succeeds at once."""
    return 1


@contextmanager
def ours_circuit(env: Env) -> Iterator[Runner]:
    """``@circuit(name, adapter=...)`` on a closed breaker."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    guarded = circuit(
        "bench-deco", failure_threshold=FAILURES, reset_timeout=RESET_S * 1000, adapter=adapter
    )(ok)
    yield sync_runner(guarded)


@contextmanager
def pybreaker_deco(env: Env) -> Iterator[Runner]:
    """A pybreaker ``CircuitBreaker`` (Redis storage) used as a decorator."""
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, env.client, namespace="bench-pybreaker-deco"
    )
    breaker = pybreaker.CircuitBreaker(
        fail_max=FAILURES, reset_timeout=RESET_S, state_storage=storage
    )
    yield sync_runner(breaker(ok))


COMPARISONS = (
    Comparison(
        "cached.hit.sync",
        Case("goscope @cached hit", ours_cached),
        Case("redis-py GET (same key)", raw_get),
        0.85,
        note="default key (name + argument digest); ours decodes JSON, the peer returns bytes",
    ),
    Comparison(
        "cached.hit.sync.key",
        Case('goscope @cached(key="item:{..}")', ours_cached_key),
        Case("redis-py GET (same key)", raw_get),
        None,
        note="as cached.hit.sync with an explicit key template",
    ),
    Comparison(
        "cached.hit.async",
        Case("goscope async @cached hit", ours_acached),
        Case("redis.asyncio GET (same key)", raw_aget),
        0.85,
        note="default key; ours decodes JSON, the peer returns bytes",
    ),
    Comparison(
        "cached.hit.cashews",
        Case("goscope async @cached hit", ours_acached),
        Case("cashews @cache hit (redis)", cashews_cached),
        2.0,
        note="both build the key from the arguments; cashews uses its own connection pool",
    ),
    Comparison(
        "circuit.closed.sync",
        Case("goscope @circuit", ours_circuit),
        Case("pybreaker decorator + Redis", pybreaker_deco),
        1.5,
        note="closed breaker, successful call",
    ),
)
