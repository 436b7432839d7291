"""Checkpoint operations. Every one is a single script, so each costs one round trip.

A task's checkpoints are ``<prefix>checkpoint:{<task>}:<sequence>`` (the encoded record) plus a
sorted-set index ``<prefix>checkpoint:{<task>}:index`` scored by sequence. The braces keep the
keys of task ``a`` and task ``a:1`` apart and in one Cluster slot per task.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from goscope_redis import scripts
from goscope_redis.checkpoint import Checkpoint, checkpoint_id, parse_checkpoint_id, validate
from goscope_redis.codecs.codec import MISS, Codec
from goscope_redis.effects import Call, Eval, Op, Script
from goscope_redis.keys import KeySpace, validate_key

SAVE = scripts.register(Script.load("checkpoint_save"))
LATEST = scripts.register(Script.load("checkpoint_latest"))
LIST = scripts.register(Script.load("checkpoint_list"))
CLEANUP = scripts.register(Script.load("checkpoint_cleanup"))


@dataclass(frozen=True, slots=True)
class CheckpointSpec:
    """What checkpoint operations need: the key space and the adapter's codec."""

    keys: KeySpace
    codec: Codec


def _encode(spec: CheckpointSpec, cp: Checkpoint) -> bytes:
    record = {
        "task_id": cp.task_id,
        "sequence": cp.sequence,
        "data": cp.data,
        "progress": cp.progress,
        "timestamp": cp.timestamp,
        "estimated_time_remaining": cp.estimated_time_remaining,
    }
    return spec.codec.encode(checkpoint_id(cp.task_id, cp.sequence), record)


def _decode(spec: CheckpointSpec, task_id: str, data: Any) -> Checkpoint | None:
    record = spec.codec.decode(task_id, data)
    if record is MISS:  # failed its signature: treated as absent, like a cache miss
        return None
    seq = int(record["sequence"])
    return Checkpoint(
        task_id=record["task_id"],
        sequence=seq,
        data=record["data"],
        progress=record["progress"],
        timestamp=int(record["timestamp"]),
        id=checkpoint_id(record["task_id"], seq),
        estimated_time_remaining=record["estimated_time_remaining"],
    )


def save(spec: CheckpointSpec, cp: Checkpoint, ttl_ms: int | None) -> Op[Checkpoint]:
    """Write the record and its index entry; refuse a sequence below the stored latest."""
    validate(cp)
    data = _encode(spec, cp)
    keys = (spec.keys.key(cp.task_id, str(cp.sequence)), spec.keys.key(cp.task_id, "index"))
    reply = yield Eval(SAVE, keys, (cp.sequence, data, ttl_ms or 0))
    if int(reply[0]) != 1:
        latest = int(reply[1])
        raise ValueError(
            f"checkpoint of task {cp.task_id!r}: sequence {cp.sequence} is older than the "
            f"stored latest {latest}; a stale worker may not move progress backwards"
        )
    return replace(cp, id=checkpoint_id(cp.task_id, cp.sequence))


def load_latest(spec: CheckpointSpec, task_id: str) -> Op[Checkpoint | None]:
    """The checkpoint with the highest sequence, or ``None``."""
    index, head = _index_and_head(spec, task_id)
    data = yield Eval(LATEST, (index,), (head,))
    return None if data is None else _decode(spec, task_id, data)


def load(spec: CheckpointSpec, id_: str) -> Op[Checkpoint | None]:
    """The checkpoint with id ``id_``, or ``None`` if it does not exist (any more)."""
    task_id, seq = parse_checkpoint_id(id_)
    data = yield Call(("GET", spec.keys.key(task_id, str(seq))))
    return None if data is None else _decode(spec, task_id, data)


def list_(spec: CheckpointSpec, task_id: str) -> Op[list[Checkpoint]]:
    """Every existing checkpoint of ``task_id``, by ascending sequence."""
    index, head = _index_and_head(spec, task_id)
    replies = yield Eval(LIST, (index,), (head,))
    found = (_decode(spec, task_id, data) for data in replies)
    return [cp for cp in found if cp is not None]


def cleanup(spec: CheckpointSpec, task_id: str, keep: int) -> Op[int]:
    """Delete all but the newest ``keep`` checkpoints; return how many were deleted."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"checkpoints of task {task_id!r}: keep must be an int >= 0, got {keep!r}")
    index, head = _index_and_head(spec, task_id)
    return int((yield Eval(CLEANUP, (index,), (head, keep))))


def delete_all(spec: CheckpointSpec, task_id: str) -> Op[int]:
    """Delete every checkpoint of ``task_id`` and its index; return how many were deleted."""
    return (yield from cleanup(spec, task_id, 0))


def _index_and_head(spec: CheckpointSpec, task_id: str) -> tuple[str, str]:
    validate_key(task_id)
    # key(task, "") is '<prefix>checkpoint:{<task>}:', the head every data key starts with.
    return spec.keys.key(task_id, "index"), spec.keys.key(task_id, "")
