"""Checkpoints: save, and load-latest with 10 and with 10 000 checkpoints in the task.

Both are one script (one round trip). Load-latest walks the task's index from the top, so its
cost must not grow with the number of checkpoints: ``checkpoint.latest.flat`` times the
10 000-checkpoint task against the 10-checkpoint one. The raw peers ``SET``/``GET`` the same
encoded payload, for context only (ours also validates, encodes and indexes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import count

from harness import PREFIX, Case, Comparison, Env, Runner, sync_runner

from goscope_redis import Checkpoint, RedisAdapter
from goscope_redis.keys import KeySpace

DATA = {"cursor": "row-81920", "done": 81920, "errors": [], "batch": {"size": 512, "retry": 0}}
PROGRESS = 40.0
SERIES = "checkpoint load-latest against a raw GET, by checkpoints in the task"


def _index(task: str) -> str:
    return KeySpace(PREFIX, "checkpoint").key(task, "index")


def _stored_payload(env: Env) -> bytes:
    """The bytes our save stores for one checkpoint (the raw peers move the same bytes)."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    adapter.save_checkpoint(Checkpoint("task-raw", 1, DATA, progress=PROGRESS))
    data = env.client.get(KeySpace(PREFIX, "checkpoint").key("task-raw", "1"))
    assert isinstance(data, bytes)
    return data


def _task(size: int) -> str:
    return f"task-{size}"


def _fill(env: Env, adapter: RedisAdapter, task: str, size: int) -> None:
    """Save checkpoints 1..``size`` of ``task`` unless already there (not timed)."""
    if env.client.zcard(_index(task)) == size:
        return  # filled by an earlier comparison in this run
    adapter.delete_checkpoints(task)
    for seq in range(1, size + 1):
        adapter.save_checkpoint(Checkpoint(task, seq, DATA, progress=PROGRESS))


@contextmanager
def ours_save(env: Env) -> Iterator[Runner]:
    """``save_checkpoint(Checkpoint(task, seq, data, progress=...))`` with rising sequences."""
    adapter = RedisAdapter(env.client, key_prefix=PREFIX)
    task, seqs = "task-save", count(1)
    adapter.delete_checkpoints(task)
    try:
        yield sync_runner(
            lambda: adapter.save_checkpoint(Checkpoint(task, next(seqs), DATA, progress=PROGRESS))
        )
    finally:
        adapter.delete_checkpoints(task)


@contextmanager
def raw_save(env: Env) -> Iterator[Runner]:
    """redis-py ``SET`` of the encoded payload."""
    client, key, data = env.client, f"{PREFIX}raw-checkpoint", _stored_payload(env)
    yield sync_runner(lambda: client.set(key, data))


def ours_latest(size: int) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup: ``load_latest_checkpoint`` of a task holding ``size`` checkpoints."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        adapter = RedisAdapter(env.client, key_prefix=PREFIX)
        task = _task(size)
        _fill(env, adapter, task, size)

        def once() -> None:
            latest = adapter.load_latest_checkpoint(task)
            assert latest is not None and latest.sequence == size

        # Kept for later comparisons of this run (the bench server is private and thrown away).
        yield sync_runner(once)

    return setup


@contextmanager
def raw_get(env: Env) -> Iterator[Runner]:
    """redis-py ``GET`` of the stored payload of a real checkpoint."""
    client, key = env.client, f"{PREFIX}raw-checkpoint-get"
    client.set(key, _stored_payload(env))
    yield sync_runner(lambda: client.get(key))


COMPARISONS = (
    Comparison(
        "checkpoint.save",
        Case("goscope save_checkpoint", ours_save),
        Case("redis-py SET (same payload)", raw_save),
        None,
        note="rising sequences, no TTL; expect 1 round trip",
    ),
    Comparison(
        "checkpoint.latest.10",
        Case("goscope load_latest (10 cps)", ours_latest(10)),
        Case("redis-py GET (same payload)", raw_get),
        None,
        scale=(SERIES, 10),
        note="task holds 10 checkpoints; expect 1 round trip",
    ),
    Comparison(
        "checkpoint.latest.10k",
        Case("goscope load_latest (10k cps)", ours_latest(10_000)),
        Case("redis-py GET (same payload)", raw_get),
        None,
        scale=(SERIES, 10_000),
        note="task holds 10 000 checkpoints; expect 1 round trip",
    ),
    Comparison(
        "checkpoint.latest.flat",
        Case("goscope load_latest (10k cps)", ours_latest(10_000)),
        Case("goscope load_latest (10 cps)", ours_latest(10)),
        0.9,
        note="10 000 checkpoints against 10: load-latest must not slow down as a task grows",
    ),
)
