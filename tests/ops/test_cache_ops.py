"""Cache operations with scripted replies."""

from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from goscope_redis.codecs import Codec
from goscope_redis.effects import Batch, Call
from goscope_redis.keys import KeySpace
from goscope_redis.ops import cache as ops

from .scripted import drive

SPEC = ops.CacheSpec(KeySpace("p:", "cache"), Codec())
CLUSTER = ops.CacheSpec(KeySpace("p:", "cache"), Codec(), cluster=True)


def test_get_is_one_get_and_decodes_json():
    effects, value = drive(ops.get(SPEC, "k"), [b'{"a":1}'])
    assert effects == [Call(("GET", "p:cache:{k}"))]
    assert value == {"a": 1}


def test_get_miss_returns_default_but_stored_null_is_a_hit():
    assert drive(ops.get(SPEC, "k", 5), [None])[1] == 5
    assert drive(ops.get(SPEC, "k", 5), [b"null"])[1] is None


def test_set_uses_px_milliseconds():
    effects, _ = drive(ops.set_(SPEC, "k", 1, 1), [True])
    assert effects == [Call(("SET", "p:cache:{k}", b"1", "PX", 1))]


def test_get_many_is_one_mget_or_one_cluster_pipeline():
    effects, got = drive(ops.get_many(SPEC, ["a", "b"]), [[b"1", None]])
    assert effects == [Call(("MGET", "p:cache:{a}", "p:cache:{b}"))] and got == {"a": 1}
    effects, _ = drive(ops.get_many(CLUSTER, ["a", "b"]), [[b"1", None]])
    assert isinstance(effects[0], Batch) and len(effects) == 1


def test_set_many_is_one_round_trip_and_validates_first():
    effects, _ = drive(ops.set_many(SPEC, {"a": 1, "b": 2}, 100), [[True, True]])
    assert len(effects) == 1 and isinstance(effects[0], Batch)
    effects, _ = drive(ops.set_many(SPEC, {"a": 1}, None), [True])
    assert effects == [Call(("MSET", "p:cache:{a}", b"1"))]


def test_incr_translates_non_integer_error():
    with pytest.raises(ValueError, match="not an integer"):
        drive(ops.incr(SPEC, "k", 1), [ResponseError("value is not an integer")])


def test_clear_scans_in_batches_and_unlinks_each_batch():
    replies = [(5, [b"p:cache:{a}"]), 1, (0, [b"p:cache:{b}"]), 1]
    effects, deleted = drive(ops.clear(SPEC), replies)
    assert deleted == 2
    assert effects[0] == Call(("SCAN", 0, "MATCH", "p:cache:{*}", "COUNT", ops.SCAN_COUNT))
    assert effects[1] == Call(("UNLINK", b"p:cache:{a}"))
    assert all(e.args[0] in ("SCAN", "UNLINK") for e in effects)


def test_keys_strips_prefix_and_decodes():
    _, keys = drive(ops.keys(SPEC), [(0, [b"p:cache:{x%7Dy}", b"p:cache:{a}"])])
    assert keys == ["a", "x}y"]
