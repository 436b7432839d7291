"""The Cluster walk of ``clear()``/``keys()`` as sans-IO effects (no Redis, always runs)."""

from __future__ import annotations

from goscope_redis.codecs import Codec
from goscope_redis.effects import Batch, Call, NodeCall, Primaries
from goscope_redis.keys import KeySpace
from goscope_redis.ops import cache as ops
from tests.ops.scripted import drive

CLUSTER = ops.CacheSpec(KeySpace("p:", "cache"), Codec(), cluster=True)
MATCH = ("MATCH", "p:cache:{*}", "COUNT", ops.SCAN_COUNT)


def test_clear_on_cluster_scans_every_primary_and_unlinks_key_by_key():
    replies = [
        ["n1", "n2"],  # Primaries
        (7, [b"p:cache:{a}"]),  # n1, first page
        [1],  # UNLINK a
        (0, []),  # n1 done
        (0, [b"p:cache:{b}", b"p:cache:{c}"]),  # n2: one page
        [1, 1],
    ]
    effects, deleted = drive(ops.clear(CLUSTER), replies)
    assert deleted == 3
    assert effects[0] == Primaries()
    assert effects[1] == NodeCall("n1", ("SCAN", 0, *MATCH))
    assert effects[2] == Batch([Call(("UNLINK", b"p:cache:{a}"))])  # one slot per command
    assert effects[3] == NodeCall("n1", ("SCAN", 7, *MATCH))
    assert effects[4] == NodeCall("n2", ("SCAN", 0, *MATCH))


def test_keys_on_cluster_merges_the_primaries():
    replies = [["n1", "n2"], (0, [b"p:cache:{b}"]), (0, [b"p:cache:{a}"])]
    effects, keys = drive(ops.keys(CLUSTER), replies)
    assert keys == ["a", "b"]
    assert [type(e) for e in effects] == [Primaries, NodeCall, NodeCall]


def test_a_single_server_walk_is_unchanged():
    spec = ops.CacheSpec(KeySpace("p:", "cache"), Codec())
    effects, keys = drive(ops.keys(spec), [(0, [b"p:cache:{a}"])])
    assert effects == [Call(("SCAN", 0, *MATCH))] and keys == ["a"]
