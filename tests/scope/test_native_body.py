"""The asyncio engine of ``AsyncScope``: the body's own task, cancelled and un-cancelled like
``asyncio.timeout``, and a task set created on the first spawn. These are the asyncio-specific
edges; tests/scope/test_structured.py runs the shared contract on asyncio and trio."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from goscope_redis import AsyncScope, scope
from goscope_redis.scope._bodies import NativeBody

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_scope_that_spawns_nothing_has_no_task_set_and_leaves_without_waiting():
    async with scope() as s:
        body = s._body
        assert isinstance(body, NativeBody) and body.idle
    assert body._tasks is None


async def test_cancel_just_before_the_body_returns_does_not_leak_past_the_scope():
    async with scope() as s:
        s.cancel()  # no await follows inside the block: the request is still armed
    await asyncio.sleep(0)  # would raise CancelledError if it leaked out
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_an_outside_cancellation_goes_through_the_scope():
    async def body() -> None:
        async with scope():
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_outside_cancellation_after_our_own_still_goes_through():
    reached = asyncio.Event()

    async def body() -> None:
        async with scope() as s:
            s.cancel()
            reached.set()
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await reached.wait()
    task.cancel()  # a second, foreign cancellation on top of the scope's
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_nested_scopes_each_absorb_only_their_own_cancellation():
    async with scope(name="outer") as outer:
        async with outer.scope("inner") as inner:
            inner.cancel()
            await asyncio.sleep(10)
        assert not outer.cancelled
        outer.cancel()
        await asyncio.sleep(10)
    assert outer.cancelled


async def test_an_enclosing_anyio_cancel_scope_cancels_through_the_scope():
    with anyio.move_on_after(0.02) as outer:
        async with scope() as s:
            handle = s.spawn(anyio.sleep, 10)
            await anyio.sleep(10)
    assert outer.cancelled_caught and handle.cancelled()


async def test_tasks_are_waited_for_even_when_the_exit_is_cancelled():
    finished: list[str] = []

    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.02)  # cleanup that takes a while
            finished.append("cleaned up")
            raise

    async def body() -> None:
        async with scope() as s:
            s.spawn(stubborn)
            await asyncio.sleep(0)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["cleaned up"]  # the scope did not return before its task ended


async def test_a_failure_during_exit_is_raised_and_cancels_the_others():
    async def late_failure() -> None:
        await asyncio.sleep(0.01)
        raise KeyError("late")

    async with anyio.create_task_group():
        with pytest.raises(KeyError):
            async with scope() as s:
                other = s.spawn(asyncio.sleep, 10)
                s.spawn(late_failure)
    assert other.cancelled()


async def test_timeout_on_asyncio_raises_timeout_error_and_cancels_tasks():
    with pytest.raises(TimeoutError):
        async with AsyncScope(timeout=20) as s:
            handle = s.spawn(asyncio.sleep, 10)
            await asyncio.sleep(10)
    assert handle.cancelled()


async def test_spawn_after_the_scope_closed_is_refused():
    async with scope() as s:
        pass
    with pytest.raises(RuntimeError):
        s.spawn(asyncio.sleep, 0)
