"""Checkpoint operations with scripted replies: one effect (one round trip) per operation."""

from __future__ import annotations

import json

import pytest

from goscope_redis import Checkpoint
from goscope_redis.checkpoint import checkpoint_id, parse_checkpoint_id
from goscope_redis.codecs import Codec
from goscope_redis.effects import Call, Eval
from goscope_redis.keys import KeySpace
from goscope_redis.ops import checkpoint as ops

from .scripted import drive

SPEC = ops.CheckpointSpec(KeySpace("p:", "checkpoint"), Codec())


def stored(task: str, seq: int, data: object = "d") -> bytes:
    record = {
        "task_id": task,
        "sequence": seq,
        "data": data,
        "progress": 10.0,
        "timestamp": 5,
        "estimated_time_remaining": None,
    }
    return json.dumps(record).encode()


def test_save_is_one_script_over_data_key_and_index():
    cp = Checkpoint("a:1", 10, "d", progress=10.0, timestamp=5)
    effects, saved = drive(ops.save(SPEC, cp, 2_000), [[1]])
    assert len(effects) == 1
    (effect,) = effects
    assert isinstance(effect, Eval) and effect.script is ops.SAVE
    assert effect.keys == ("p:checkpoint:{a:1}:10", "p:checkpoint:{a:1}:index")
    assert effect.args[0] == 10 and effect.args[2] == 2_000
    assert json.loads(effect.args[1]) == json.loads(stored("a:1", 10))
    assert saved.id == "a:1:10" and saved.data == "d"


def test_save_without_ttl_passes_zero():
    effects, _ = drive(ops.save(SPEC, Checkpoint("t", 1, None), None), [[1]])
    assert effects[0].args[2] == 0


def test_save_refused_by_script_raises_naming_task_and_sequences():
    with pytest.raises(ValueError, match=r"'t'.*sequence 3 is older.*latest 12"):
        drive(ops.save(SPEC, Checkpoint("t", 3, None), None), [[0, b"12"]])


def test_invalid_checkpoint_raises_before_any_effect():
    op = ops.save(SPEC, Checkpoint("t", 1, None, progress=101), None)
    with pytest.raises(ValueError, match="progress"):
        drive(op, [])


def test_load_latest_is_one_script_over_the_index():
    effects, cp = drive(ops.load_latest(SPEC, "t"), [stored("t", 4)])
    assert effects == [Eval(ops.LATEST, ("p:checkpoint:{t}:index",), ("p:checkpoint:{t}:",))]
    assert cp.sequence == 4 and cp.id == "t:4"


def test_load_latest_of_empty_task_is_none():
    assert drive(ops.load_latest(SPEC, "t"), [None])[1] is None


def test_load_by_id_is_one_get_of_the_data_key():
    effects, cp = drive(ops.load(SPEC, "x:{y}:7"), [stored("x:{y}", 7)])
    assert effects == [Call(("GET", "p:checkpoint:{x:{y%7D}:7"))]
    assert cp.task_id == "x:{y}" and cp.sequence == 7


def test_list_decodes_every_record_in_order():
    _, cps = drive(ops.list_(SPEC, "t"), [[stored("t", 1), stored("t", 2)]])
    assert [c.id for c in cps] == ["t:1", "t:2"]


def test_cleanup_and_delete_are_one_script_each():
    effects, n = drive(ops.cleanup(SPEC, "t", 3), [4])
    assert (
        n == 4 and effects[0].script is ops.CLEANUP and effects[0].args == ("p:checkpoint:{t}:", 3)
    )
    effects, n = drive(ops.delete_all(SPEC, "t"), [2])
    assert n == 2 and effects[0].args == ("p:checkpoint:{t}:", 0)


@pytest.mark.parametrize("task", ["a", "a:1", "a:1:2", "{}", "x}:9", "é"])
@pytest.mark.parametrize("seq", [0, 9, 10, 2**53 - 1])
def test_ids_round_trip(task, seq):
    assert parse_checkpoint_id(checkpoint_id(task, seq)) == (task, seq)


def test_ids_of_task_a_and_a_colon_1_never_collide():
    ids = {checkpoint_id(t, s) for t in ("a", "a:1", "a:1:1") for s in (1, 11)}
    assert len(ids) == 6
