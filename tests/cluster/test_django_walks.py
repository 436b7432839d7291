"""The Django backend's SCAN walks on a Cluster: ``keys``/``iter_keys``, ``delete_pattern`` and
``clear`` reach every primary, sync and async, however small the SCAN batches.

One node's ``SCAN`` sees that node's keys only; the backend walks each primary with its own
cursor (the core's ``scan_nodes``/``scan_step``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.cluster.conftest import require_cluster

require_cluster()

from goscope_redis_django.cache import RedisCache  # noqa: E402
from goscope_redis_django.connections import REGISTRY  # noqa: E402
from tests.django import settings as test_settings  # noqa: E402

test_settings.configure()  # placeholder settings: this folder runs without tests/django

USERS = 24


@pytest.fixture
def cache(cluster_url: str, prefix: str) -> Iterator[RedisCache]:
    """A backend on the cluster, seeded with user and session keys over several primaries."""
    node = urlsplit(cluster_url).netloc
    made = RedisCache(
        f"redis+cluster://{node}", {"KEY_PREFIX": "w", "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix}}
    )
    made.set_many({f"user:{n}": n for n in range(USERS)}, 60)
    made.set_many({f"session:{n}": n for n in range(3)}, 60)
    yield made
    made.clear()


def _primaries_holding(cache: RedisCache, prefix: str) -> int:
    client: Any = cache._sync_client()
    keys = [f"{prefix}cache:{{w:1:user:{n}}}" for n in range(USERS)]
    return len({client.get_node_from_key(key).name for key in keys})


def test_the_seed_spans_several_primaries(cache: RedisCache, prefix: str) -> None:
    assert _primaries_holding(cache, prefix) > 1


def test_keys_and_delete_pattern_walk_every_primary(cache: RedisCache) -> None:
    users = sorted(f"user:{n}" for n in range(USERS))
    assert sorted(cache.keys("user:*")) == users
    assert sorted(cache.iter_keys("user:*", itersize=2)) == users  # many steps per primary
    assert cache.delete_pattern("user:*", itersize=3) == USERS
    assert cache.keys("user:*") == []
    assert sorted(cache.keys("*")) == ["session:0", "session:1", "session:2"]
    cache.clear()
    assert cache.keys("*") == []


def test_the_async_walks_reach_every_primary_too(cache: RedisCache) -> None:
    async def walk() -> tuple[list[str], int, list[str]]:
        try:
            found = [key async for key in cache.aiter_keys("user:*", itersize=2)]
            deleted = await cache.adelete_pattern("user:*", itersize=3)
            await cache.aclear()
            left = [key async for key in cache.aiter_keys("*")]
            return found, deleted, left
        finally:
            await REGISTRY.aclose_loop()

    found, deleted, left = asyncio.run(walk())
    assert sorted(found) == sorted(f"user:{n}" for n in range(USERS))
    assert (deleted, left) == (USERS, [])
