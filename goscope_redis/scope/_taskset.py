"""``TaskSet``: the spawned tasks of one scope on asyncio, created on the first ``spawn``.

A minimal task group in plain asyncio. It exists so that a scope that never spawns (most
request scopes) costs no task group at all. The rules are the task group's: the first failure
cancels the other tasks and is reported to the scope (which cancels its body); ``join`` waits for
every task, and a cancellation that reaches ``join`` cancels the tasks and still waits for them,
so no task outlives its scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


class TaskSet:
    """Tasks started with :meth:`start_soon`, failures collected, joined by :meth:`join`."""

    __slots__ = ("_cancelled", "_on_failure", "_tasks", "errors")

    def __init__(self, on_failure: Callable[[], None]) -> None:
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cancelled = False
        self.errors: list[BaseException] = []

    def start_soon(
        self, coro: Coroutine[Any, Any, Any], name: str, ended: Callable[[], None]
    ) -> None:
        """Run ``coro`` as a task of the set (in a copy of the caller's context).

        ``ended`` is called when the task is over, even if it was cancelled before it ever ran
        (then ``coro``'s own ``finally`` never runs).
        """
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)  # a strong reference: the loop only keeps weak ones
        task.add_done_callback(self._finished)
        task.add_done_callback(lambda _: ended())
        if self._cancelled:
            task.cancel()

    def cancel(self) -> None:
        """Cancel every task, and any started later."""
        self._cancelled = True
        for task in self._tasks:
            task.cancel()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.errors.append(error)
            self.cancel()
            self._on_failure()

    async def join(self) -> None:
        """Wait until every task has finished, including tasks started meanwhile."""
        interrupted: asyncio.CancelledError | None = None
        while self._tasks:
            try:
                await asyncio.wait(list(self._tasks))
            except asyncio.CancelledError as exc:
                # Cancelled from outside while waiting: the tasks must still end first.
                interrupted = exc
                self.cancel()
        if interrupted is not None:
            raise interrupted
