"""How an :class:`~goscope_redis.AsyncScope` runs its body and its tasks: two engines, one contract.

* :class:`NativeBody` (asyncio): no task group until something is spawned. Cancelling the scope
  cancels the body's own task, the way ``asyncio.timeout`` does (``cancel`` then ``uncancel`` at
  exit to tell our cancellation from anyone else's), and a :class:`TaskSet` appears on the first
  ``spawn``. Entering and leaving such a scope touches no event-loop machinery, which is what
  lets a scope per HTTP request cost next to nothing.
* :class:`GroupBody` (any anyio backend, used on trio): an anyio task group whose cancel scope
  carries the deadline.

Both report the same things: ``cancel_called``, ``timed_out``, and at exit the error the body
and its tasks produced (``None``, an exception, or a group of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.abc

from goscope_redis.scope._taskset import TaskSet

Spawnable = Callable[..., Coroutine[Any, Any, Any]]
"""What a scope runs as a task: an async function (its arguments are passed separately)."""


class NativeBody:
    """The body of a scope on asyncio (see the module doc)."""

    __slots__ = (
        "_baseline",
        "_exiting",
        "_requested",
        "_task",
        "_tasks",
        "_timer",
        "cancel_called",
        "timed_out",
    )

    def __init__(
        self, task: asyncio.Task[Any], timeout_s: float | None, baseline: int | None = None
    ) -> None:
        self._task = task
        # Cancellations pending before the scope started (taken now unless the caller took it).
        self._baseline = task.cancelling() if baseline is None else baseline
        self._requested = False  # we called task.cancel()
        self._exiting = False
        self._tasks: TaskSet | None = None
        self._timer: asyncio.TimerHandle | None = None
        if timeout_s is not None:
            self._timer = asyncio.get_running_loop().call_later(timeout_s, self._expire)
        self.cancel_called = False
        self.timed_out = False

    @property
    def idle(self) -> bool:
        """True when exiting has nothing to do: no tasks, no timer, no cancellation of ours."""
        return self._tasks is None and self._timer is None and not self._requested

    def _expire(self) -> None:
        self._timer = None
        self.timed_out = True
        self.cancel()

    def cancel(self) -> None:
        """Cancel the tasks, and the body unless it has already finished."""
        if self.cancel_called:
            return
        self.cancel_called = True
        if self._tasks is not None:
            self._tasks.cancel()
        if not self._exiting:
            self._requested = True
            self._task.cancel()

    def start_soon(
        self, fn: Spawnable, args: tuple[Any, ...], name: str, ended: Callable[[], None]
    ) -> None:
        """Start ``fn(*args)`` as a task of the scope (the first one creates the task set);
        ``ended()`` runs when it is over."""
        tasks = self._tasks
        if tasks is None:
            if self._exiting:
                raise RuntimeError("the scope is closing: no new tasks")
            tasks = self._tasks = TaskSet(self.cancel)
            if self.cancel_called:
                tasks.cancel()
        tasks.start_soon(fn(*args), name, ended)

    async def exit(self, exc: BaseException | None) -> BaseException | None:
        """Wait for the tasks; return what the body and the tasks raised (ours filtered out)."""
        self._exiting = True
        if self._timer is not None:
            self._timer.cancel()
        errors: list[BaseException] = []
        if self._tasks is not None:
            if exc is not None:
                self._tasks.cancel()  # the body failed or was cancelled: so are its tasks
            try:
                await self._tasks.join()
            except asyncio.CancelledError as raised:
                exc = exc or raised  # cancelled from outside while waiting: let it through
            errors.extend(self._tasks.errors)
        if self._requested:
            exc = await self._absorb(exc)
        if exc is not None:
            errors.insert(0, exc)
        if not errors:
            return None
        return errors[0] if len(errors) == 1 else BaseExceptionGroup("scope failures", errors)

    async def _absorb(self, exc: BaseException | None) -> BaseException | None:
        """Swallow the cancellation we asked for; pass on anyone else's."""
        task = self._task
        if isinstance(exc, asyncio.CancelledError):
            return None if task.uncancel() <= self._baseline else exc
        task.uncancel()
        # The body ended before our cancel reached it; on 3.11 the request stays armed after
        # uncancel(), so take delivery here rather than let it hit the caller's next await.
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError as raised:
            if task.cancelling() > self._baseline:
                return raised  # somebody else cancelled us meanwhile
        return exc


class GroupBody:
    """The body of a scope in an anyio task group (trio, or anything but asyncio)."""

    __slots__ = ("_group",)

    def __init__(self, group: anyio.abc.TaskGroup) -> None:
        self._group = group

    @classmethod
    async def enter(cls, timeout_s: float | None) -> GroupBody:
        """Enter a task group whose cancel scope carries the deadline."""
        group = anyio.create_task_group()
        await group.__aenter__()
        if timeout_s is not None:
            group.cancel_scope.deadline = anyio.current_time() + timeout_s
        return cls(group)

    idle = False
    """A task group always has to be left."""

    @property
    def cancel_called(self) -> bool:
        """True once the scope has been cancelled."""
        return self._group.cancel_scope.cancel_called

    @property
    def timed_out(self) -> bool:
        """True if the deadline cancelled the scope."""
        scope = self._group.cancel_scope
        return scope.cancelled_caught and anyio.current_time() >= scope.deadline

    def cancel(self) -> None:
        """Cancel the body and every task."""
        self._group.cancel_scope.cancel()

    def start_soon(
        self, fn: Spawnable, args: tuple[Any, ...], name: str, ended: Callable[[], None]
    ) -> None:
        """Start ``fn(*args)`` in the group; ``ended()`` runs when it is over."""

        async def tracked() -> None:
            try:
                await fn(*args)
            finally:
                ended()

        # anyio starts every task, even in a cancelled group, so ``finally`` always runs.
        self._group.start_soon(tracked, name=name)

    async def exit(self, exc: BaseException | None) -> BaseException | None:
        """Leave the task group (waits for every task); return what it raises, if anything."""
        try:
            if await self._group.__aexit__(
                type(exc) if exc else None, exc, exc.__traceback__ if exc else None
            ):
                return None
        except BaseException as raised:
            return raised
        return exc


Body = NativeBody | GroupBody
"""Either engine."""
