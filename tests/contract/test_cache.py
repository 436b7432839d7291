"""Cache contract: runs on {sync, async} x {real redis-server, fakeredis}."""

from __future__ import annotations

from datetime import timedelta

import pytest

from goscope_redis import SerializationError, SignedPickleSerializer


def test_get_returns_default_on_miss(adapter):
    assert adapter.get("missing") is None
    assert adapter.get("missing", default=7) == 7


def test_set_then_get_round_trips_json_values(adapter):
    value = {"a": [1, 2.5, "x", True, None], "b": {"c": "é"}}
    adapter.set("k", value)
    assert adapter.get("k") == value


def test_stored_none_is_a_hit(adapter):
    adapter.set("n", None)
    assert adapter.get("n", default="miss") is None
    assert adapter.has("n")


# The short TTLs below leave room (250 ms) for a stalled CI machine between the write and the
# read that expects the value still there; read as seconds they would outlive the test.
def test_ttl_uses_milliseconds(adapter):
    adapter.set("short", 1, ttl=250)
    assert adapter.get("short") == 1
    adapter.sleep(0.4)
    assert adapter.get("short", default="gone") == "gone"


def test_timedelta_ttl_is_accepted(adapter):
    adapter.set("td", "v", ttl=timedelta(milliseconds=250))
    assert adapter.get("td") == "v"
    adapter.sleep(0.4)
    assert not adapter.has("td")


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10", timedelta(microseconds=1500)])
def test_bad_ttl_raises_and_writes_nothing(adapter, bad):
    with pytest.raises(ValueError):
        adapter.set("k", 1, ttl=bad)
    assert not adapter.has("k")


@pytest.mark.parametrize("bad", ["", None, 5, b"bytes"])
def test_bad_key_raises(adapter, bad):
    with pytest.raises((TypeError, ValueError)):
        adapter.set(bad, 1)


def test_unserialisable_value_names_key_and_type(adapter):
    with pytest.raises(SerializationError) as info:
        adapter.set("obj", object())
    assert "obj" in str(info.value) and "object" in str(info.value)
    assert isinstance(info.value, TypeError)
    assert not adapter.has("obj")


def test_max_value_bytes_is_enforced(factory, prefix):
    small = factory(prefix, max_value_bytes=10)
    with pytest.raises(SerializationError, match="max_value_bytes"):
        small.set("big", "x" * 100)
    assert not small.has("big")
    small.set("ok", "x")
    assert small.get("ok") == "x"


def test_delete_and_has(adapter):
    adapter.set("k", 1)
    assert adapter.has("k")
    assert adapter.delete("k") is True
    assert adapter.delete("k") is False
    assert not adapter.has("k")


def test_add_only_when_absent(adapter):
    assert adapter.add("k", 1) is True
    assert adapter.add("k", 2) is False
    assert adapter.get("k") == 1


def test_add_with_ttl_expires(adapter):
    assert adapter.add("k", 1, ttl=50)
    adapter.sleep(0.15)
    assert adapter.add("k", 2)


def test_incr_counts_from_zero_and_keeps_ttl(adapter):
    assert adapter.incr("c") == 1
    assert adapter.incr("c", 5) == 6
    assert adapter.incr("c", -2) == 4
    adapter.set("t", 10, ttl=250)
    assert adapter.incr("t") == 11
    adapter.sleep(0.4)
    assert not adapter.has("t")


def test_incr_on_non_integer_raises_value_error(adapter):
    adapter.set("s", "text")
    with pytest.raises(ValueError, match="not an integer"):
        adapter.incr("s")


def test_get_many_and_set_many(adapter):
    adapter.set_many({"a": 1, "b": None, "c": [3]})
    assert adapter.get_many(["a", "b", "c", "zz"]) == {"a": 1, "b": None, "c": [3]}
    assert adapter.get_many([]) == {}


def test_set_many_with_ttl(adapter):
    adapter.set_many({"a": 1, "b": 2}, ttl=50)
    adapter.sleep(0.15)
    assert adapter.get_many(["a", "b"]) == {}


def test_set_many_with_bad_value_writes_nothing(adapter):
    with pytest.raises(SerializationError, match="'b'"):
        adapter.set_many({"a": 1, "b": object()})
    assert not adapter.has("a")


def test_keys_lists_user_keys_with_pattern(adapter):
    adapter.set_many({"user:1": 1, "user:2": 2, "order:1": 3, "odd}key%": 4})
    assert adapter.keys() == ["odd}key%", "order:1", "user:1", "user:2"]
    assert adapter.keys("user:*") == ["user:1", "user:2"]
    assert adapter.keys("odd}*") == ["odd}key%"]


def test_clear_removes_only_this_prefix(factory, prefix):
    mine = factory(prefix)
    other = factory(prefix + "cache:")  # a prefix that extends ours must stay intact
    mine.set_many({f"k{i}": i for i in range(2500)})
    other.set("x", 1)
    mine.acquire("held", 10_000)
    assert mine.clear() == 2500
    assert mine.keys() == []
    assert other.get("x") == 1
    assert mine.acquire("held", 10_000, owner="someone-else") is None  # locks untouched


def test_glob_characters_in_prefix_are_escaped(factory, prefix):
    star = factory(prefix + "*[x]?\\")
    plain = factory(prefix + "a[x]b\\")
    plain.set("k", 1)
    star.set("k", 2)
    assert star.clear() == 1
    assert plain.get("k") == 1
    assert star.keys() == []


def test_signed_pickle_round_trips_and_rejects_tampering(factory, prefix, face_id):
    secret_a = factory(prefix, serializer=SignedPickleSerializer("a-secret"))
    secret_b = factory(prefix, serializer=SignedPickleSerializer("b-secret"))
    secret_a.set("p", {1, 2, 3})
    assert secret_a.get("p") == {1, 2, 3}
    assert secret_b.get("p", default="miss") == "miss"
    secret_a.set("n", 41)
    assert secret_a.incr("n") == 42


def test_delete_pattern_stays_inside_prefix_and_pattern(factory, prefix):
    mine, other = factory(prefix), factory(prefix + "x")
    mine.set_many({"user:1": 1, "user:2": 2, "order:1": 3})
    other.set("user:1", 9)
    assert mine.delete_pattern("user:*") == 2
    assert mine.keys() == ["order:1"]
    assert other.get("user:1") == 9
