"""Core cache ``get``/``set`` against raw redis-py ``GET``/``SET``, sync and async.

Both sides share one client (same connection options). The raw peer moves bytes only; our side
also encodes/decodes the JSON value, and the target still asks for 0.9x the raw throughput.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

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
)
