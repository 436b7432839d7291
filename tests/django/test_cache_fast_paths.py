"""The backend's fast paths behave exactly like the plain ones: the bounded key memo and the
one-loop decoding of ``get_many``. Sync and async (the ``face`` fixture)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import CacheKeyWarning, caches

from goscope_redis_django import _backend
from goscope_redis_django.cache import RedisCache
from goscope_redis_django.connections import REGISTRY
from tests.django.faces import AsyncCacheFace, SyncCacheFace


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The default cache, through its sync or its async methods."""
    cache = caches["default"]
    if request.param == "sync":
        yield SyncCacheFace(cache)
        return
    yield AsyncCacheFace(cache, loop)
    loop.run_until_complete(REGISTRY.aclose_loop())


def rkey(prefix: str, key: str, version: int = 1) -> str:
    return f"{prefix}cache:{{site:{version}:{key}}}"


class Shouting(str):
    """A str subclass whose str() differs from its value: Django's make_key uses str()."""

    def __str__(self) -> str:
        return self.upper()


def test_key_memo_stays_bounded_and_keys_stay_right(
    face: Any, raw: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_backend, "KEY_MEMO_SIZE", 8)
    keys = [f"k{i}" for i in range(30)]
    for i, key in enumerate(keys):
        face.set(key, i)
    assert raw.exists(*(rkey(prefix, k) for k in keys)) == 30
    assert face.get_many(keys) == {k: i for i, k in enumerate(keys)}
    assert all(face.get(k) == i for i, k in enumerate(keys))
    memo = face.cache._memo
    assert memo is not None and 0 < len(memo) <= 8
    assert all(memo[k] == rkey(prefix, k) for k in memo)


def test_the_memo_is_shared_by_the_caches_of_one_alias_and_not_across_key_prefixes(
    redis_server: Any, settings: Any
) -> None:
    params = {
        k: v for k, v in settings.CACHES["default"].items() if k not in ("BACKEND", "LOCATION")
    }
    first, second = caches["default"], RedisCache(redis_server.url, params)
    first.set("shared", 1)
    assert second.get("shared") == 1
    assert first._memo is second._memo and "shared" in first._memo
    assert caches["other"]._memo is not first._memo
    assert caches["other"].get("shared") is None


def test_a_key_that_warns_is_not_remembered_and_warns_every_time(face: Any) -> None:
    key = "k" * 251
    with pytest.warns(CacheKeyWarning):
        face.set(key, 1)
    for _ in range(2):
        with pytest.warns(CacheKeyWarning):
            assert face.get_many([key, "other"]) == {key: 1}
        with pytest.warns(CacheKeyWarning):
            assert face.get(key) == 1
    assert key not in face.cache._memo


def test_get_many_keeps_key_order_duplicates_and_non_str_keys(face: Any) -> None:
    face.set_many({"a": 1, "b": 2, 7: "seven", Shouting("s"): "upper"})
    assert list(face.get_many(["b", "zz", "a", "b"])) == ["b", "a"]
    assert face.get_many(iter(["a", "b"])) == {"a": 1, "b": 2}
    assert face.get_many(["b", 7]) == {"b": 2, 7: "seven"}
    assert face.get("S") == "upper"  # stored under str(key), as Django's make_key does
    face.get_many(["s"])  # remembers "s" (absent) before the look-alike subclass key
    found = face.get_many([Shouting("s")])
    assert found == {"s": "upper"} and type(next(iter(found))) is Shouting
    assert face.get(Shouting("s")) == "upper"


def test_get_many_with_an_explicit_version_bypasses_the_memo(face: Any) -> None:
    face.set("v", "one")
    face.set("v", "two", version=2)
    assert face.get_many(["v"], version=2) == {"v": "two"}
    assert face.get_many(["v"]) == {"v": "one"}
    assert face.get("v", version=2) == "two"


def test_tampered_value_in_get_many_is_a_miss_named_by_its_django_key(
    face: Any, raw: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    face.set_many({"good": [1], "victim": "x", "n": 5})
    stored = raw.get(rkey(prefix, "victim"))
    assert stored is not None
    raw.set(rkey(prefix, "victim"), stored[:36] + pickle.dumps("evil"))
    with caplog.at_level(logging.WARNING, logger="goscope_redis"):
        assert face.get_many(["good", "victim", "n"]) == {"good": [1], "n": 5}
    assert "'site:1:victim'" in caplog.text


def test_a_custom_key_function_gets_no_memo(redis_server: Any, prefix: str) -> None:
    params = {
        "KEY_FUNCTION": lambda key, key_prefix, version: f"custom|{key}|{version}",
        "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix},
    }
    cache = RedisCache(redis_server.url, params)
    assert cache._memo is None
    cache.set_many({"a": 1, "b": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
