"""The backend's pre-keyed ops, driven with scripted replies (no Redis)."""

from __future__ import annotations

import redis

from goscope_redis import SignedPickleSerializer
from goscope_redis.codecs import Codec
from goscope_redis.effects import Batch, Call
from goscope_redis.keys import KeySpace
from goscope_redis.ops.cache import CacheSpec
from goscope_redis_django import _ops
from tests.ops.scripted import drive

CODEC = Codec(SignedPickleSerializer("s"))
SPEC = CacheSpec(KeySpace("p:", "cache"), CODEC)
CLUSTER = CacheSpec(KeySpace("p:", "cache"), CODEC, cluster=True)


def test_get_many_is_one_mget_of_the_given_redis_keys():
    effects, got = drive(
        _ops.get_many(SPEC, ["a", "b", "c"], ["ra", "rb", "rc"]),
        [[CODEC.encode("a", [1]), None, b"7"]],
    )
    assert effects == [Call(("MGET", "ra", "rb", "rc"))]
    assert got == {"a": [1], "c": 7}
    assert drive(_ops.get_many(SPEC, [], []), []) == ([], {})


def test_get_many_on_cluster_is_one_pipeline_and_skips_failed_slots():
    effects, got = drive(
        _ops.get_many(CLUSTER, ["a", "b"], ["ra", "rb"]),
        [[redis.exceptions.ConnectionError("node down"), CODEC.encode("b", "x")]],
    )
    assert effects == [Batch([Call(("GET", "ra")), Call(("GET", "rb"))])]
    assert got == {"b": "x"}


def test_get_and_set_use_the_given_redis_key():
    effects, got = drive(_ops.get(SPEC, "site:1:a", "ra", "dflt"), [None])
    assert effects == [Call(("GET", "ra"))] and got == "dflt"
    effects, _ = drive(_ops.set_(SPEC, "site:1:a", "ra", 5, None), [b"OK"])
    assert effects == [Call(("SET", "ra", b"5"))]
    effects, _ = drive(_ops.set_(SPEC, "site:1:a", "ra", 5, 1500), [b"OK"])
    assert effects == [Call(("SET", "ra", b"5", "PX", 1500))]
