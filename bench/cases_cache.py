"""Core cache ``get``/``set`` against raw redis-py ``GET``/``SET``, sync and async, and
``get_many`` at 1, 10, 100 and 1000 keys against a raw ``MGET`` of the same keys.

Both sides share one client (same connection options). The raw peer moves bytes only; our side
also encodes/decodes the JSON value, and the target still asks for 0.9x the raw throughput.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis.keys import KeySpace

VALUE = {"id": 42, "name": "widget", "price": 9.99, "tags": ["a", "b"], "active": True}
RAW = json.dumps(VALUE, separators=(",", ":")).encode()
KEY = "user:42"


# The peer reads the very key our cache writes, so both sides move the same bytes.
RAW_KEY = KeySpace(PREFIX, "cache").key(KEY)


@contextmanager
def ours_get(env: Env) -> Iterator[Runner]:
    """``RedisAdapter.get`` of a small JSON value."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    adapter.set(KEY, VALUE)
    yield sync_runner(lambda: adapter.get(KEY))


@contextmanager
def raw_get(env: Env) -> Iterator[Runner]:
    """redis-py ``GET`` of the same bytes."""
    client, key = env.client, RAW_KEY
    client.set(key, RAW)
    yield sync_runner(lambda: client.get(key))


@contextmanager
def ours_set(env: Env) -> Iterator[Runner]:
    """``RedisAdapter.set`` of a small JSON value (encoded on every call)."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    yield sync_runner(lambda: adapter.set(KEY, VALUE))


@contextmanager
def raw_set(env: Env) -> Iterator[Runner]:
    """redis-py ``SET`` of pre-encoded bytes."""
    client, key = env.client, RAW_KEY
    yield sync_runner(lambda: client.set(key, RAW))


@contextmanager
def ours_aget(env: Env) -> Iterator[Runner]:
    """``AsyncRedisAdapter.get`` of a small JSON value."""
    adapter = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX)
    env.loop.run_until_complete(adapter.set(KEY, VALUE))
    yield async_runner(env, lambda: adapter.get(KEY))


@contextmanager
def raw_aget(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``GET`` of the same bytes."""
    client, key = env.aclient, RAW_KEY
    env.loop.run_until_complete(client.set(key, RAW))
    yield async_runner(env, lambda: client.get(key))


@contextmanager
def ours_aset(env: Env) -> Iterator[Runner]:
    """``AsyncRedisAdapter.set`` of a small JSON value."""
    adapter = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX)
    yield async_runner(env, lambda: adapter.set(KEY, VALUE))


@contextmanager
def raw_aset(env: Env) -> Iterator[Runner]:
    """redis.asyncio ``SET`` of pre-encoded bytes."""
    client, key = env.aclient, RAW_KEY
    yield async_runner(env, lambda: client.set(key, RAW))


MANY_SIZES = (1, 10, 100, 1000)
MANY_SERIES = "get_many against a raw MGET of the same keys, by number of keys"


def _many_keys(size: int) -> list[str]:
    return [f"many:{size}:{i}" for i in range(size)]


def ours_get_many(size: int) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup: ``RedisAdapter.get_many`` of ``size`` stored keys (small JSON values)."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        adapter, keys = RedisAdapter(env.client, key_prefix=PREFIX), _many_keys(size)
        adapter.set_many(dict.fromkeys(keys, VALUE))

        def once() -> None:
            assert len(adapter.get_many(keys)) == size

        yield sync_runner(once)

    return setup


def raw_mget(size: int) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup: redis-py ``MGET`` of the same ``size`` keys (bytes, no decoding)."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        space, client = KeySpace(PREFIX, "cache"), env.client
        rkeys = [space.key(k) for k in _many_keys(size)]
        client.mset(dict.fromkeys(rkeys, RAW))
        yield sync_runner(lambda: client.mget(rkeys))

    return setup


def get_many(size: int) -> Comparison:
    """``get_many`` of ``size`` keys against ``MGET``: one point of the scaling series."""
    return Comparison(
        f"cache.get_many.{size}",
        Case(f"goscope get_many({size})", ours_get_many(size)),
        Case(f"redis-py MGET ({size} keys)", raw_mget(size)),
        None,
        scale=(MANY_SERIES, size),
        note="ours decodes JSON per key and builds the dict, the peer returns a list of bytes",
    )


COMPARISONS = (
    Comparison(
        "cache.get.sync",
        Case("goscope RedisAdapter.get", ours_get),
        Case("redis-py GET", raw_get),
        0.9,
        note="ours decodes JSON, the peer returns bytes",
    ),
    Comparison(
        "cache.set.sync",
        Case("goscope RedisAdapter.set", ours_set),
        Case("redis-py SET", raw_set),
        None,
        note="ours encodes JSON, the peer sends bytes",
    ),
    Comparison(
        "cache.get.async",
        Case("goscope AsyncRedisAdapter.get", ours_aget),
        Case("redis.asyncio GET", raw_aget),
        0.9,
        note="ours decodes JSON, the peer returns bytes",
    ),
    Comparison(
        "cache.set.async",
        Case("goscope AsyncRedisAdapter.set", ours_aset),
        Case("redis.asyncio SET", raw_aset),
        None,
        note="ours encodes JSON, the peer sends bytes",
    ),
    *(get_many(size) for size in MANY_SIZES),
)
