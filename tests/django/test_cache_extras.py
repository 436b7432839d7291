"""django-redis's extras (seconds, django-redis signatures), round trips, and the lock API."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches

from goscope_redis import LockTimeoutError
from goscope_redis_django.connections import REGISTRY
from goscope_redis_django.locks import lock
from tests.django.faces import AsyncCacheFace, SyncCacheFace


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    cache = caches["default"]
    if request.param == "sync":
        yield SyncCacheFace(cache)
        return
    yield AsyncCacheFace(cache, loop)
    loop.run_until_complete(REGISTRY.aclose_loop())


def test_ttl_in_seconds_none_without_expiry_zero_when_missing(face: Any) -> None:
    face.set("t", 1, 100)
    face.set("p", 1, None)
    assert 99 <= face.ttl("t") <= 100
    assert face.ttl("p") is None
    assert face.ttl("missing") == 0
    assert 99_000 < face.pttl("t") <= 100_000
    assert face.pttl("missing") == 0


def test_ttl_rounds_up_so_a_live_key_never_reads_as_missing(face: Any) -> None:
    face.set("soon", 1, 0.3)
    assert face.ttl("soon") == 1


def test_expire_and_persist(face: Any) -> None:
    face.set("e", 1, None)
    assert face.expire("e", 50) is True
    assert 45 <= face.ttl("e") <= 50
    assert face.persist("e") is True
    assert face.ttl("e") is None
    assert face.persist("e") is False
    assert face.expire("missing", 10) is False
    assert face.expire("e", 0) is True
    assert face.get("e") is None


def test_delete_pattern_deletes_matching_keys_of_this_version_and_alias(face: Any) -> None:
    face.set_many({"user:1": 1, "user:2": 2, "order:1": 3})
    face.set("user:3", 4, version=2)
    caches["other"].set("user:1", "other")
    assert face.delete_pattern("user:*") == 2
    assert face.get_many(["user:1", "user:2", "order:1"]) == {"order:1": 3}
    assert face.get("user:3", version=2) == 4
    assert caches["other"].get("user:1") == "other"


def test_delete_pattern_treats_glob_characters_of_the_prefix_literally(
    redis_server: Any, prefix: str
) -> None:
    from goscope_redis_django.cache import RedisCache

    options = {"GOSCOPE_KEY_PREFIX": prefix}
    star = RedisCache(redis_server.url, {"KEY_PREFIX": "a*", "OPTIONS": options})
    plain = RedisCache(redis_server.url, {"KEY_PREFIX": "ab", "OPTIONS": options})
    star.set("k", 1)
    plain.set("k", 2)
    assert star.delete_pattern("*") == 1
    assert plain.get("k") == 2


def test_iter_keys_yields_user_keys_without_prefix_or_version(face: Any) -> None:
    face.set_many({"user:1": 1, "user:2": 2, "order:1": 3})
    face.set("user:9", 1, version=2)
    assert sorted(face.iter_keys("user:*")) == ["user:1", "user:2"]
    assert sorted(face.iter_keys("*", version=2)) == ["user:9"]
    assert sorted(face.cache.keys("*")) == ["order:1", "user:1", "user:2"]


def test_iter_keys_walks_many_scan_steps() -> None:
    cache = caches["default"]
    cache.set_many({f"k{i}": i for i in range(250)})
    assert len(list(cache.iter_keys("k*", itersize=20))) == 250


# --- round trips, counted by Redis -----------------------------------------------------------


def round_trips(raw: redis.Redis, fn: Callable[[], Any]) -> int:
    """Request reads the server processed while ``fn`` ran (less the probe's own INFO)."""
    before = int(raw.info("stats")["total_reads_processed"])
    fn()
    return int(raw.info("stats")["total_reads_processed"]) - before - 1


def test_each_operation_is_one_round_trip(raw: redis.Redis) -> None:
    cache = caches["default"]
    keys = [f"k{i}" for i in range(100)]
    cache.set("warm", 1)
    cache.incr("warm")  # the pool's connection exists and the script is loaded
    assert round_trips(raw, lambda: cache.set("a", {"x": 1})) == 1
    assert round_trips(raw, lambda: cache.get("a")) == 1
    # (a pipeline of 100 SETs can arrive in two socket reads; 20 fit in one)
    assert round_trips(raw, lambda: cache.set_many(dict.fromkeys(keys[:20], 1), 60)) == 1
    cache.set_many(dict.fromkeys(keys, 1))
    assert round_trips(raw, lambda: cache.get_many(keys)) == 1
    assert round_trips(raw, lambda: cache.delete_many(keys)) == 1
    assert round_trips(raw, lambda: cache.incr("warm")) == 1
    assert round_trips(raw, lambda: cache.add("b", 1)) == 1
    assert round_trips(raw, lambda: cache.touch("b", None)) == 1
    assert round_trips(raw, lambda: cache.incr_version("b")) == 1


# --- locks (seconds; fencing; auto-extension) ---------------------------------------------


def test_cache_lock_gives_increasing_fencing_tokens(raw: redis.Redis, prefix: str) -> None:
    cache = caches["default"]
    with cache.lock("job") as first:
        assert raw.exists(f"{prefix}lock:{{site:1:job}}") == 1
    with cache.lock("job") as second:
        pass
    assert second.fencing_token > first.fencing_token
    assert raw.exists(f"{prefix}lock:{{site:1:job}}") == 0


def test_lock_times_out_with_lock_timeout_error() -> None:
    with (
        lock("busy", timeout=5),
        pytest.raises(LockTimeoutError),
        lock("busy", blocking_timeout=0.1),
    ):
        pass


def test_acquire_returns_false_instead_of_raising() -> None:
    holder = caches["default"].lock("x")
    assert holder.acquire() is True
    assert holder.locked() is True
    other = caches["default"].lock("x", blocking=False)
    assert other.acquire() is False
    assert other.acquire(blocking_timeout=0.05) is False
    holder.release()
    assert holder.locked() is False
    assert other.acquire() is True
    assert other.fencing_token is not None
    other.release()


def test_waiter_gets_the_lock_when_the_holder_releases() -> None:
    order: list[str] = []
    holder = lock("handoff", timeout=10)
    holder.acquire()

    def wait() -> None:
        with lock("handoff", blocking_timeout=5):
            order.append("waiter")

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.1)
    order.append("holder")
    holder.release()
    thread.join(5)
    assert order == ["holder", "waiter"]


def test_lease_is_renewed_while_held(raw: redis.Redis, prefix: str) -> None:
    with lock("renewed", timeout=0.3):
        time.sleep(0.7)
        assert raw.exists(f"{prefix}lock:{{site:1:renewed}}") == 1


def test_lease_without_auto_extend_runs_out(raw: redis.Redis, prefix: str) -> None:
    held = lock("short", timeout=0.2, auto_extend=False)
    assert held.acquire()
    time.sleep(0.35)
    assert raw.exists(f"{prefix}lock:{{site:1:short}}") == 0
    held.release()  # releasing an expired lease is harmless


def test_lock_with_async_with(loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[int]:
        tokens = []
        for _ in range(2):
            async with lock("async-job", timeout=5) as handle:
                tokens.append(handle.fencing_token)
        with pytest.raises(LockTimeoutError):
            async with lock("async-job", timeout=5), lock("async-job", blocking_timeout=0):
                pass
        await REGISTRY.aclose_loop()
        return tokens

    first, second = loop.run_until_complete(main())
    assert second > first


def test_lock_rejects_bad_durations() -> None:
    with pytest.raises(ValueError):
        lock("x", timeout=0)
    with pytest.raises(ValueError):
        lock("x", blocking_timeout=-1)


def test_lock_needs_our_backend(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.CACHES = {
        **settings.CACHES,
        "mem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with pytest.raises(ImproperlyConfigured, match="mem"):
        lock("x", using="mem")


def test_get_redis_connection_is_the_shared_client(raw: redis.Redis, prefix: str) -> None:
    from goscope_redis_django.cache import get_redis_connection

    client = get_redis_connection()
    assert client is caches["default"]._sync_client()
    client.set(f"{prefix}raw", b"1")
    assert raw.get(f"{prefix}raw") == b"1"
    from django.core.cache import InvalidCacheBackendError

    with pytest.raises(InvalidCacheBackendError):
        get_redis_connection("missing")
