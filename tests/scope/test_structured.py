"""The structured-concurrency part of the async scope, on asyncio and on trio (no Redis)."""

from __future__ import annotations

import functools

import anyio
import pytest

from goscope_redis import AsyncScope, Hooks, ScopeCancelledError, current_scope, scope

pytestmark = pytest.mark.anyio


async def _fail_after(delay: float, error: BaseException) -> None:
    await anyio.sleep(delay)
    raise error


async def test_spawn_returns_an_awaitable_handle_with_the_result():
    async def double(x: int) -> int:
        await anyio.sleep(0)
        return 2 * x

    async with scope(name="math") as s:
        handle = s.spawn(double, 21)
        assert await handle == 42
    assert handle.done() and handle.result() == 42 and not handle.cancelled()


async def test_sibling_failure_cancels_the_others_and_is_raised_unwrapped():
    finished: list[str] = []
    cancelled: list[str] = []

    async def slow(tag: str) -> None:
        try:
            await anyio.sleep(10)
            finished.append(tag)
        except anyio.get_cancelled_exc_class():
            cancelled.append(tag)
            raise

    with anyio.fail_after(5), pytest.raises(ValueError, match="boom"):
        async with scope() as s:
            slow_a, slow_b = s.spawn(slow, "a"), s.spawn(slow, "b")
            s.spawn(_fail_after, 0.01, ValueError("boom"))
            await anyio.sleep(10)  # the body is cancelled too
    assert finished == [] and sorted(cancelled) == ["a", "b"]
    assert slow_a.cancelled() and slow_b.cancelled()
    with pytest.raises(ScopeCancelledError):
        await slow_a  # a handle outlives its scope, but only to report what happened


async def test_nothing_runs_after_the_scope_exits():
    ticks: list[int] = []

    async def ticker() -> None:
        for i in range(1000):
            ticks.append(i)
            await anyio.sleep(0.005)

    with pytest.raises(RuntimeError):
        async with scope() as s:
            s.spawn(ticker)
            await anyio.sleep(0.03)
            raise RuntimeError("body failed")
    seen = len(ticks)
    await anyio.sleep(0.05)
    assert len(ticks) == seen  # no task leaked past the block


async def test_awaiting_a_failed_handle_in_the_body_raises_that_failure_once():
    with pytest.raises(ValueError, match="once"):
        async with scope() as s:
            await s.spawn(_fail_after, 0.01, ValueError("once"))


async def test_several_failures_are_raised_as_an_exception_group():
    async def fail_at_once(error: Exception) -> None:
        raise error

    with pytest.raises(ExceptionGroup) as info:
        async with scope() as s:
            s.spawn(fail_at_once, KeyError("a"))
            s.spawn(fail_at_once, ValueError("b"))
    assert {type(e) for e in info.value.exceptions} == {KeyError, ValueError}


async def test_timeout_cancels_the_whole_scope_with_timeout_error():
    started = anyio.current_time()
    with pytest.raises(TimeoutError, match="slow"):
        async with scope(name="slow", timeout=50) as s:
            s.spawn(anyio.sleep, 10)
            await anyio.sleep(10)
    assert anyio.current_time() - started < 5


async def test_a_scope_that_finishes_in_time_does_not_time_out():
    async with scope(timeout=5_000) as s:
        s.spawn(anyio.sleep, 0.01)


async def test_concurrency_caps_the_tasks_running_at_once():
    running = peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01)
        running -= 1

    async with scope(concurrency=2) as s:
        for _ in range(8):
            s.spawn(work)
    assert peak == 2


async def test_child_scopes_inherit_the_name_path_and_current_scope_is_innermost():
    assert current_scope() is None
    seen: dict[str, object] = {}

    async def record(tag: str) -> None:
        seen[tag] = current_scope()

    async with scope(name="req") as outer:
        assert current_scope() is outer
        async with outer.scope("db") as inner:
            assert inner.name == "req/db" and current_scope() is inner
            inner.spawn(record, "inner-task")
        assert current_scope() is outer
        outer.spawn(record, "outer-task")
    assert current_scope() is None
    assert seen == {"inner-task": inner, "outer-task": outer}


async def test_cancel_stops_the_scope_without_an_error():
    async with scope() as s:
        handle = s.spawn(anyio.sleep, 10)
        s.cancel()
        assert s.cancelled
        await anyio.sleep(10)
    assert handle.cancelled()


async def test_a_child_failure_propagates_to_the_parent():
    with pytest.raises(KeyError):
        async with scope(name="p") as parent:
            sibling = parent.spawn(anyio.sleep, 10)
            async with parent.scope("c") as child:
                child.spawn(_fail_after, 0, KeyError("child"))
    assert sibling.cancelled()


async def test_hooks_report_task_start_and_end_with_duration_and_error():
    events: list[tuple[object, ...]] = []
    hooks = Hooks(
        on_task_start=lambda name: events.append(("start", name)),
        on_task_end=lambda name, ms, error: events.append(("end", name, ms >= 0, error)),
    )

    async def ok() -> int:
        return 1

    async with scope(hooks=hooks) as s:
        await s.spawn(ok, name="first")
        async with s.scope("child") as child:  # children report to the parent's hooks
            await child.spawn(functools.partial(ok))
    assert events == [
        ("start", "first"),
        ("end", "first", True, None),
        ("start", "ok"),
        ("end", "ok", True, None),
    ]


async def test_hooks_subscribe_and_unsubscribe_and_a_raising_hook_is_ignored(caplog):
    names: list[str] = []

    def broken(name: str) -> None:
        raise RuntimeError("metrics bug")

    async def ok() -> None:
        return None

    async with scope() as s:
        s.hooks.subscribe(on_task_start=broken)
        stop = s.hooks.subscribe(on_task_start=names.append)
        await s.spawn(ok)
        stop()
        await s.spawn(ok)
    assert names == ["ok"]
    assert "metrics bug" in caplog.text


async def test_spawning_a_sync_function_is_a_type_error():
    with pytest.raises(TypeError, match="not an awaitable"):
        async with scope() as s:
            s.spawn(lambda: 1)


async def test_a_scope_is_entered_once_and_spawn_needs_it_open():
    s = AsyncScope()
    with pytest.raises(RuntimeError):
        s.spawn(anyio.sleep, 0)
    async with s:
        pass
    with pytest.raises(RuntimeError):
        s.spawn(anyio.sleep, 0)
    with pytest.raises(RuntimeError):
        async with s:
            pass


async def test_bad_options_fail_before_anything_runs():
    with pytest.raises(ValueError):
        scope(timeout=0)
    with pytest.raises(ValueError):
        scope(concurrency=0)
    with pytest.raises(TypeError):
        scope(persistence=object())  # type: ignore[call-overload]


async def test_a_spawned_task_call_is_named_after_its_id():
    names: list[str] = []

    async def job() -> int:
        return 1

    async with scope(hooks=Hooks(on_task_start=names.append)) as s:
        assert await s.spawn(functools.partial(s.task, job, id="nightly")) == 1
        assert await s.spawn(functools.partial(s.task, job)) == 1
    assert names == ["nightly", "nightly", "job", "job"]
