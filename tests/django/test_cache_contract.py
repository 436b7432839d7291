"""Django's documented cache behaviour, sync and async, against a real Redis.

Each test runs twice: on the sync methods and on their native ``a*`` twins.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import pickle
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import CacheKeyWarning, caches
from django.core.cache.backends.base import BaseCache, memcache_key_warnings

from goscope_redis import SerializationError
from goscope_redis_django.cache import RedisCache
from goscope_redis_django.connections import REGISTRY
from tests.django.faces import ASYNC_TWINS, AsyncCacheFace, SyncCacheFace


class Thing:
    """A user-defined class: pickled values must round-trip."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thing) and other.value == self.value


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The default cache, through its sync or its async methods."""
    cache = caches["default"]
    if request.param == "sync":
        yield SyncCacheFace(cache)
        return
    yield AsyncCacheFace(cache, loop)
    loop.run_until_complete(REGISTRY.aclose_loop())


def rkey(prefix: str, key: str, version: int = 1, key_prefix: str = "site") -> str:
    return f"{prefix}cache:{{{key_prefix}:{version}:{key}}}"


# --- get / set / add -------------------------------------------------------------------------


def test_get_of_missing_key_returns_default(face: Any) -> None:
    assert face.get("nope") is None
    assert face.get("nope", "dflt") == "dflt"


def test_set_then_get_round_trips_python_objects(face: Any) -> None:
    values = {
        "str": "héllo ☃",
        "int": 42,
        "bool": True,
        "float": 1.5,
        "bytes": b"\x00\xff\x10",
        "none": None,
        "dict": {"a": [1, 2, {"b": (3, 4)}]},
        "date": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "decimal": decimal.Decimal("1.10"),
        "thing": Thing(7),
    }
    for key, value in values.items():
        face.set(key, value)
    for key, value in values.items():
        got = face.get(key, "miss")
        assert got == value and type(got) is type(value), key


def test_stored_none_is_a_hit_not_a_miss(face: Any) -> None:
    face.set("n", None)
    assert face.get("n", "dflt") is None
    assert face.has_key("n")


def test_set_writes_the_documented_key_layout(face: Any, raw: redis.Redis, prefix: str) -> None:
    face.set("user:7", "x")
    assert raw.exists(rkey(prefix, "user:7")) == 1


def test_add_stores_only_when_absent(face: Any) -> None:
    assert face.add("k", "first") is True
    assert face.add("k", "second") is False
    assert face.get("k") == "first"


def test_large_value_round_trips(face: Any) -> None:
    blob = b"x" * 1_000_000
    face.set("big", blob)
    assert face.get("big") == blob


def test_unicode_keys_work(face: Any) -> None:
    face.set("ключ-☃", 1)
    assert face.get("ключ-☃") == 1


def test_integers_are_stored_as_digits_for_atomic_incr(
    face: Any, raw: redis.Redis, prefix: str
) -> None:
    face.set("n", 5)
    assert raw.get(rkey(prefix, "n")) == b"5"


# --- timeouts (seconds; None forever; 0 or negative expires now) -----------------------------


def test_timeout_expires_the_value(face: Any) -> None:
    face.set("short", "v", 0.2)
    assert face.get("short") == "v"
    time.sleep(0.35)
    assert face.get("short") is None


def test_float_timeout_keeps_millisecond_precision(face: Any) -> None:
    face.set("half", "v", 0.5)
    assert 300 < face.pttl("half") <= 500


def test_none_timeout_keeps_forever(face: Any) -> None:
    face.set("forever", "v", None)
    assert face.ttl("forever") is None


def test_default_timeout_is_300_seconds(face: Any) -> None:
    face.set("dflt", "v")
    assert 295 <= face.ttl("dflt") <= 300


@pytest.mark.parametrize("timeout", [0, -1])
def test_zero_or_negative_timeout_does_not_store_and_deletes(face: Any, timeout: int) -> None:
    face.set("gone", "old")
    face.set("gone", "new", timeout)
    assert face.get("gone") is None
    assert face.add("added", "v", timeout) is True
    assert face.get("added") is None
    face.set_many({"m1": 1, "m2": 2}, timeout)
    assert face.get_many(["m1", "m2"]) == {}


def test_add_with_zero_timeout_reports_false_when_key_exists(face: Any) -> None:
    face.set("here", 1)
    assert face.add("here", 2, 0) is False
    assert face.get("here") == 1


def test_backend_timeout_setting_is_the_default(redis_server: Any, prefix: str) -> None:
    options = {"GOSCOPE_KEY_PREFIX": prefix}
    minute = RedisCache(redis_server.url, {"TIMEOUT": 60, "OPTIONS": options})
    forever = RedisCache(redis_server.url, {"TIMEOUT": None, "OPTIONS": options})
    minute.set("a", 1)
    forever.set("b", 1)
    assert 55 <= minute.ttl("a") <= 60
    assert forever.ttl("b") is None


def test_touch_sets_a_new_timeout_and_reports_existence(face: Any) -> None:
    face.set("t", "v", 10)
    assert face.touch("t", 100) is True
    assert face.ttl("t") > 90
    assert face.touch("t", None) is True
    assert face.ttl("t") is None
    assert face.touch("t", None) is True  # already persistent: still "touched"
    assert face.touch("missing", 10) is False
    assert face.touch("t", 0) is True
    assert face.get("t") is None


# --- delete / many / has_key ---------------------------------------------------------------


def test_delete_reports_whether_the_key_existed(face: Any) -> None:
    face.set("d", 1)
    assert face.delete("d") is True
    assert face.delete("d") is False
    assert face.get("d") is None


def test_get_many_returns_hits_only_in_one_round_trip(face: Any) -> None:
    face.set_many({"a": 1, "b": None, "c": "x"})
    assert face.get_many(["a", "b", "c", "zz"]) == {"a": 1, "b": None, "c": "x"}
    assert face.get_many([]) == {}


def test_set_many_returns_no_failed_keys_and_applies_timeout(face: Any) -> None:
    assert face.set_many({"x": 1, "y": 2}, 50) == []
    assert face.set_many({}) == []
    assert 45 <= face.ttl("x") <= 50


def test_delete_many_removes_every_key(face: Any) -> None:
    face.set_many({"a": 1, "b": 2, "c": 3})
    face.delete_many(["a", "b", "missing"])
    face.delete_many([])
    assert face.get_many(["a", "b", "c"]) == {"c": 3}


def test_has_key_and_in(face: Any) -> None:
    face.set("h", 0)
    assert face.has_key("h") is True
    assert face.has_key("nope") is False
    assert "h" in face


# --- incr / decr ---------------------------------------------------------------------------


def test_incr_and_decr(face: Any) -> None:
    face.set("n", 10)
    assert face.incr("n") == 11
    assert face.incr("n", 5) == 16
    assert face.decr("n") == 15
    assert face.decr("n", 20) == -5
    assert face.incr("n", -5) == -10
    assert face.get("n") == -10


def test_incr_of_missing_key_raises_value_error(face: Any) -> None:
    with pytest.raises(ValueError):
        face.incr("missing")
    with pytest.raises(ValueError):
        face.decr("missing")
    assert face.get("missing") is None  # nothing was created


def test_incr_keeps_the_ttl(face: Any) -> None:
    face.set("n", 1, 100)
    face.incr("n")
    assert 95 <= face.ttl("n") <= 100
    face.set("p", 1, None)
    face.incr("p")
    assert face.ttl("p") is None


def test_incr_of_a_non_integer_raises_value_error(face: Any) -> None:
    face.set("s", "text")
    with pytest.raises(ValueError):
        face.incr("s")


def test_concurrent_incr_is_atomic(loop: asyncio.AbstractEventLoop) -> None:
    cache = caches["default"]
    cache.set("hits", 0)

    async def hammer() -> None:
        await asyncio.gather(*(cache.aincr("hits") for _ in range(200)))

    loop.run_until_complete(hammer())
    loop.run_until_complete(REGISTRY.aclose_loop())
    assert cache.get("hits") == 200


# --- get_or_set ----------------------------------------------------------------------------


def test_get_or_set_stores_the_default_once(face: Any) -> None:
    assert face.get_or_set("g", 42) == 42
    assert face.get_or_set("g", 43) == 42


def test_get_or_set_calls_a_callable_default_only_on_a_miss(face: Any) -> None:
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return "made"

    assert face.get_or_set("c", make) == "made"
    assert face.get_or_set("c", make) == "made"
    assert calls == [1]


def test_get_or_set_with_none_stores_none(face: Any) -> None:
    assert face.get_or_set("null", None) is None
    assert face.has_key("null")


# --- versions ------------------------------------------------------------------------------


def test_versions_are_separate_keys(face: Any) -> None:
    face.set("v", "one")
    face.set("v", "two", version=2)
    assert face.get("v") == "one"
    assert face.get("v", version=2) == "two"
    face.delete("v", version=2)
    assert face.get("v") == "one"


def test_incr_version_moves_the_value_and_keeps_ttl(face: Any) -> None:
    face.set("v", "val", 100)
    assert face.incr_version("v") == 2
    assert face.get("v") is None
    assert face.get("v", version=2) == "val"
    assert 95 <= face.ttl("v", version=2) <= 100
    assert face.decr_version("v", version=2) == 1
    assert face.get("v") == "val"
    with pytest.raises(ValueError):
        face.incr_version("missing")


def test_version_setting_is_the_default_version(redis_server: Any, prefix: str) -> None:
    options = {"GOSCOPE_KEY_PREFIX": prefix}
    v1 = RedisCache(redis_server.url, {"OPTIONS": options})
    v3 = RedisCache(redis_server.url, {"VERSION": 3, "OPTIONS": options})
    v3.set("k", "three")
    assert v1.get("k") is None
    assert v1.get("k", version=3) == "three"


# --- keys: prefix, key function, validation ------------------------------------------------


def custom_key(key: str, key_prefix: str, version: int) -> str:
    return f"custom|{key_prefix}|{version}|{key}"


@pytest.mark.parametrize(
    "key_function", [custom_key, "tests.django.test_cache_contract.custom_key"]
)
def test_key_function_builds_the_key_inside_the_hash_tag(
    redis_server: Any, prefix: str, raw: redis.Redis, key_function: Any
) -> None:
    params = {
        "KEY_FUNCTION": key_function,
        "KEY_PREFIX": "kp",
        "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix},
    }
    cache = RedisCache(redis_server.url, params)
    cache.set("a", 1)
    assert raw.exists(f"{prefix}cache:{{custom|kp|1|a}}") == 1
    assert cache.get("a") == 1


def test_long_key_warns_like_django(face: Any) -> None:
    key = "k" * 251
    expected = list(memcache_key_warnings(f"site:1:{key}"))
    with pytest.warns(CacheKeyWarning) as caught:
        face.set(key, 1)
    assert [str(w.message) for w in caught] == expected
    with pytest.warns(CacheKeyWarning):
        assert face.get(key) == 1  # stored anyway: Redis has no such limit


def test_key_with_control_or_space_characters_warns_like_django(face: Any) -> None:
    for key in ("has space", "tab\there", "bell\x07"):
        expected = list(memcache_key_warnings(f"site:1:{key}"))
        with pytest.warns(CacheKeyWarning) as caught:
            face.set(key, 1)
        assert [str(w.message) for w in caught] == expected


def test_valid_key_emits_no_warning(face: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        face.set("fine:key-1", 1)
        face.get_many(["fine:key-1", "other"])


# --- serialisation and safety --------------------------------------------------------------


def test_unpicklable_value_raises_serialization_and_pickle_error(
    face: Any, raw: redis.Redis, prefix: str
) -> None:
    with pytest.raises(pickle.PickleError) as caught:
        face.set("bad", lambda: 1)
    assert isinstance(caught.value, SerializationError)
    assert "site:1:bad" in str(caught.value)
    with pytest.raises(pickle.PickleError):
        face.set_many({"ok": 1, "bad": lambda: 1})
    assert raw.exists(rkey(prefix, "bad"), rkey(prefix, "ok")) == 0  # nothing written


class Boom:
    """Unpickling this would run ``exploded.append``: the tamper test proves it never runs."""

    def __reduce__(self) -> Any:
        return (EXPLODED.append, ("ran",))


EXPLODED: list[str] = []


def test_tampered_pickle_reads_as_a_miss_and_executes_nothing(
    face: Any, raw: redis.Redis, prefix: str
) -> None:
    EXPLODED.clear()
    face.set("victim", "good")
    stored = raw.get(rkey(prefix, "victim"))
    assert stored is not None
    evil = pickle.dumps(Boom())
    raw.set(rkey(prefix, "victim"), evil)  # an attacker with Redis write access
    assert face.get("victim", "dflt") == "dflt"
    forged = stored[: 4 + 32] + evil  # a valid-looking header with someone else's payload
    raw.set(rkey(prefix, "victim"), forged)
    assert face.get("victim", "dflt") == "dflt"
    assert face.get_many(["victim"]) == {}
    assert EXPLODED == []


def test_value_signed_with_another_secret_is_a_miss(redis_server: Any, prefix: str) -> None:
    options = {"GOSCOPE_KEY_PREFIX": prefix}
    mine = RedisCache(redis_server.url, {"OPTIONS": options})
    theirs = RedisCache(redis_server.url, {"OPTIONS": {**options, "SECRET": "another"}})
    theirs.set("k", {"a": 1})
    assert mine.get("k", "miss") == "miss"


# --- clear and isolation -------------------------------------------------------------------


def test_clear_deletes_only_this_alias_keys(face: Any, raw: redis.Redis, prefix: str) -> None:
    other = caches["other"]
    face.set_many({"a": 1, "b": 2})
    face.set("v2", 1, version=2)
    other.set("a", "other")
    raw.set(f"{prefix}lock:{{x}}", "owner")
    raw.set("unrelated", "keep")
    face.clear()
    assert face.get_many(["a", "b"]) == {}
    assert face.get("v2", version=2) is None
    assert other.get("a") == "other"
    assert raw.get(f"{prefix}lock:{{x}}") == b"owner"
    assert raw.get("unrelated") == b"keep"
    raw.delete("unrelated")


def test_aliases_with_different_key_prefixes_are_isolated(face: Any) -> None:
    other = caches["other"]
    face.set("same", "default")
    other.set("same", "other")
    assert face.get("same") == "default"
    assert other.get("same") == "other"
    face.delete("same")
    assert other.get("same") == "other"


def test_goscope_prefixes_are_isolated(redis_server: Any, prefix: str) -> None:
    one = RedisCache(redis_server.url, {"OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix + "one:"}})
    two = RedisCache(redis_server.url, {"OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix + "two:"}})
    one.set("k", 1)
    two.set("k", 2)
    one.clear()
    assert (one.get("k"), two.get("k")) == (None, 2)


def test_close_keeps_the_pool_usable(face: Any) -> None:
    face.set("c", 1)
    face.close()
    assert face.get("c") == 1


# --- native async ----------------------------------------------------------------------------


def test_every_async_method_is_native() -> None:
    inherited = [
        n
        for n in sorted(ASYNC_TWINS)
        if getattr(RedisCache, "a" + n) is getattr(BaseCache, "a" + n, None)
    ]
    # get_or_set and decr_version are Django's own composition of our native methods.
    assert inherited == ["decr_version", "get_or_set"]


def test_async_methods_never_use_the_thread_fallback(
    monkeypatch: pytest.MonkeyPatch, loop: asyncio.AbstractEventLoop
) -> None:
    import django.core.cache.backends.base as base

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("sync_to_async was used")

    monkeypatch.setattr(base, "sync_to_async", forbidden)
    cache = AsyncCacheFace(caches["default"], loop)
    cache.set("a", 1)
    cache.add("b", 2)
    cache.get_or_set("c", 3)
    cache.set_many({"d": 4})
    assert cache.get_many(["a", "b", "c", "d"]) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert cache.incr("a") == 2
    assert cache.decr_version("a", version=1) == 0
    cache.touch("b", 5)
    cache.delete_many(["b"])
    cache.clear()
    loop.run_until_complete(REGISTRY.aclose_loop())


class PrefixedCache(RedisCache):
    """Django documents subclassing the backend to change how keys are made."""

    def make_key(self, key: Any, version: int | None = None) -> str:
        return f"sub|{key}|{version or self.version}"


def test_a_subclass_make_key_is_honoured(redis_server: Any, prefix: str, raw: redis.Redis) -> None:
    cache = PrefixedCache(redis_server.url, {"OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix}})
    cache.set_many({"a": 1, "b": 2})
    cache.set("c", 3, version=4)
    assert raw.exists(f"{prefix}cache:{{sub|a|1}}", f"{prefix}cache:{{sub|c|4}}") == 2
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}


def test_a_timeout_that_is_not_a_number_is_a_type_error(face: Any) -> None:
    with pytest.raises(TypeError):
        face.set("k", 1, "60")
