"""The ``Checkpoint`` record and its self-describing id.

A checkpoint id is ``<task_id>:<sequence>``. The sequence is a plain decimal integer, so the id
splits back at its *last* colon however many colons or braces the task id holds: every id that
``save_checkpoint`` returns can be loaded with ``load_checkpoint`` alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Final

from goscope_redis.keys import validate_key

MAX_SEQUENCE: Final = 2**53 - 1
"""Sequences are sorted-set scores (doubles): beyond 2**53 they would lose precision."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One saved state of a long-running task.

    ``sequence`` orders a task's checkpoints (numerically, so 10 comes after 9); ``progress`` is
    a percentage from 0 to 100; ``timestamp`` and ``estimated_time_remaining`` are in ms.
    ``id`` is filled in by ``save_checkpoint`` (it is derived from ``task_id`` and ``sequence``).
    """

    task_id: str
    sequence: int
    data: Any
    progress: float = 0.0
    timestamp: int = field(default_factory=_now_ms)
    id: str | None = None
    estimated_time_remaining: int | None = None


def checkpoint_id(task_id: str, sequence: int) -> str:
    """The id of ``task_id``'s checkpoint number ``sequence``."""
    return f"{task_id}:{sequence}"


def parse_checkpoint_id(checkpoint_id: object) -> tuple[str, int]:
    """Split an id made by :func:`checkpoint_id` into ``(task_id, sequence)``."""
    if not isinstance(checkpoint_id, str):
        raise TypeError(f"checkpoint ids are str, not {type(checkpoint_id).__name__}")
    task_id, _, tail = checkpoint_id.rpartition(":")
    # Only the canonical spelling (no sign, no leading zero) is an id, so ids are unique.
    if not task_id or not tail.isdigit() or not tail.isascii() or str(int(tail)) != tail:
        raise ValueError(
            f"{checkpoint_id!r} is not a checkpoint id; ids look like '<task_id>:<sequence>'"
        )
    return task_id, int(tail)


def validate(cp: Checkpoint) -> None:
    """Raise ``TypeError``/``ValueError`` (naming the task) unless ``cp`` can be saved."""
    if not isinstance(cp, Checkpoint):
        raise TypeError(f"expected a Checkpoint, not {type(cp).__name__}")
    task = validate_key(cp.task_id)
    seq = cp.sequence
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQUENCE:
        raise ValueError(
            f"checkpoint of task {task!r}: sequence must be an int from 0 to 2**53-1, got {seq!r}"
        )
    _check_progress(task, cp.progress)
    _check_ms(task, "timestamp", cp.timestamp)
    if cp.estimated_time_remaining is not None:
        _check_ms(task, "estimated_time_remaining", cp.estimated_time_remaining)
    if cp.id is not None and cp.id != checkpoint_id(task, seq):
        raise ValueError(
            f"checkpoint of task {task!r}: id {cp.id!r} does not match task_id and sequence; "
            f"ids are derived ({checkpoint_id(task, seq)!r}), so leave id=None"
        )


def _check_progress(task: str, progress: object) -> None:
    if (
        isinstance(progress, bool)
        or not isinstance(progress, int | float)
        or not (math.isfinite(progress) and 0 <= progress <= 100)
    ):
        raise ValueError(
            f"checkpoint of task {task!r}: progress must be a number from 0 to 100, "
            f"got {progress!r}"
        )


def _check_ms(task: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"checkpoint of task {task!r}: {name} must be a non-negative int of ms, got {value!r}"
        )
