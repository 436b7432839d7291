"""The sync scope: thread-pool tasks with cooperative cancellation, and the same helpers."""

from __future__ import annotations

import threading
import time

import pytest

from goscope_redis import (
    Hooks,
    Idempotency,
    LockLostError,
    Retry,
    Scope,
    ScopeCancelledError,
    TaskContext,
    current_scope,
    scope,
)


def _lock_key(prefix: str, key: str) -> str:
    return f"{prefix}lock:{{{key}}}"


def _until_cancelled(s: Scope, seen: list[str], tag: str) -> None:
    while True:
        try:
            s.check()
        except ScopeCancelledError:
            seen.append(tag)
            raise
        time.sleep(0.005)


def test_the_sync_scope_releases_its_locks_at_exit(sadapter, prefix, raw):
    with scope(persistence=sadapter) as s:
        with s.lock("job:1", ttl=10_000) as handle:
            assert raw.exists(_lock_key(prefix, "job:1")) and handle.fencing_token >= 1
        kept = s.lock("job:2", ttl=10_000).__enter__()  # never exited by the caller
        assert raw.exists(_lock_key(prefix, "job:2"))
    assert not raw.exists(_lock_key(prefix, "job:1"))
    assert not raw.exists(_lock_key(prefix, "job:2"))
    assert not kept.is_valid()


def test_the_sync_scope_releases_its_locks_on_error(sadapter, prefix, raw):
    with pytest.raises(ValueError), scope(persistence=sadapter) as s:
        s.lock("job:3", ttl=10_000).__enter__()
        raise ValueError("failed while holding a lock")
    assert not raw.exists(_lock_key(prefix, "job:3"))


def test_first_failure_cancels_the_other_tasks_cooperatively():
    stopped: list[str] = []

    def fail() -> None:
        time.sleep(0.02)
        raise KeyError("first failure")

    started = time.monotonic()
    with pytest.raises(KeyError), scope(name="workers", concurrency=3) as s:
        s.spawn(_until_cancelled, s, stopped, "a")
        s.spawn(_until_cancelled, s, stopped, "b")
        s.spawn(fail)
        never = s.spawn(_until_cancelled, s, stopped, "queued")  # no free thread: never starts
    assert sorted(stopped) == ["a", "b"]
    assert never.cancelled() and time.monotonic() - started < 5
    with pytest.raises(ScopeCancelledError):
        never.result()


def test_several_failures_are_raised_together_and_nothing_runs_after_exit():
    barrier = threading.Barrier(2)

    def fail(error: Exception) -> None:
        barrier.wait(timeout=5)
        raise error

    with pytest.raises(ExceptionGroup) as info, scope(concurrency=2) as s:
        s.spawn(fail, KeyError("a"))
        s.spawn(fail, ValueError("b"))
    assert {type(e) for e in info.value.exceptions} == {KeyError, ValueError}
    assert not [t for t in threading.enumerate() if t.name.startswith("goscope:scope")]


def test_a_failed_handle_result_in_the_body_raises_that_failure_once():
    def fail() -> None:
        raise ValueError("once")

    with pytest.raises(ValueError, match="once"), scope() as s:
        s.spawn(fail).result(timeout=5)


def test_spawn_returns_a_handle_and_tasks_see_the_scope():
    def where() -> object:
        return current_scope()

    with scope(name="sync") as s:
        handle = s.spawn(where)
        assert handle.result(timeout=5) is s
    assert handle.done() and not handle.cancelled()
    assert current_scope() is None


def test_timeout_is_observed_by_check_and_raised_as_timeout_error():
    seen: list[str] = []
    with pytest.raises(TimeoutError, match="slow"), scope(name="slow", timeout=50) as s:
        s.spawn(_until_cancelled, s, seen, "task")
        _until_cancelled(s, seen, "body")
    assert sorted(seen) == ["body", "task"]


def test_cancel_is_absorbed_and_a_parent_cancel_reaches_children():
    seen: list[str] = []
    with scope(name="p") as parent:
        with pytest.raises(ScopeCancelledError), parent.scope("c") as child:
            parent.cancel()
            assert child.cancelled
            _until_cancelled(child, seen, "child")
        assert parent.cancelled
    assert seen == ["child"]


def test_a_lost_lease_cancels_the_sync_scope_with_lock_lost_error(sadapter, prefix, raw):
    lost: list[str] = []
    seen: list[str] = []
    with (
        pytest.raises(LockLostError),
        scope(
            persistence=sadapter, hooks=Hooks(on_lock_lost=lambda key, token: lost.append(key))
        ) as s,
        s.lock("job:4", ttl=300),
    ):
        raw.delete(_lock_key(prefix, "job:4"))
        _until_cancelled(s, seen, "body")
    assert seen == ["body"] and lost == ["job:4"]


def _count(ctx: TaskContext, rows: int, fail_at: int | None) -> int:
    done: int = ctx.checkpoint.data or 0
    for row in range(done, rows):
        if row == fail_at:
            raise RuntimeError("crash")
        ctx.checkpoint.save(row + 1, progress=100 * (row + 1) / rows)
    return rows


def test_sync_tasks_have_checkpoints_idempotency_and_retry(sadapter, raw, prefix):
    runs: list[int] = []

    def once() -> int:
        runs.append(1)
        return 7

    with scope(persistence=sadapter) as s:
        with pytest.raises(RuntimeError):
            s.task(_count, 4, 2, id="count", checkpoint=True)
        assert sadapter.load_latest_checkpoint("count").progress == 50.0
        assert s.resume_task("count", _count, 4, None) == 4
        assert sadapter.list_checkpoints("count") == []
        assert [s.task(once, idempotency=Idempotency(key="once")) for _ in range(3)] == [7] * 3
        attempts: list[int] = []
        assert s.task(lambda: attempts.append(1) or len(attempts), retry=Retry()) == 1
    assert runs == [1]


def test_a_sync_task_timeout_is_cooperative():
    def busy() -> None:
        while True:
            current_scope().check()  # the task's own scope carries the deadline
            time.sleep(0.005)

    with scope() as s:
        with pytest.raises(TimeoutError):
            s.task(busy, timeout=50)
        assert not s.cancelled


def test_an_async_function_in_a_sync_scope_is_a_type_error():
    async def coro() -> None:
        return None

    with pytest.raises(TypeError, match="awaitable"), scope() as s:
        s.task(coro)
