"""Handles of spawned tasks: await (async) or ``result()`` (sync) for the task's outcome."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Generator
from typing import Any, Generic, TypeVar

import anyio

from goscope_redis.errors import ScopeCancelledError

T = TypeVar("T")


class AsyncTaskHandle(Generic[T]):
    """A task spawned in an :class:`AsyncScope`. ``await handle`` gives its result.

    A failed task re-raises its exception; a task cancelled with its scope raises
    :class:`~goscope_redis.ScopeCancelledError`.
    """

    __slots__ = ("_cancelled", "_done", "_error", "_scope_name", "_value", "name")

    def __init__(self, name: str, scope_name: str) -> None:
        self.name = name
        self._scope_name = scope_name
        self._done = anyio.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        self._cancelled = True  # until the task reports a result or an error

    def done(self) -> bool:
        """True once the task has finished (or was cancelled)."""
        return self._done.is_set()

    def cancelled(self) -> bool:
        """True if the task was cancelled (by its scope) instead of finishing."""
        return self.done() and self._cancelled

    def result(self) -> T:
        """The result of a finished task (raises ``RuntimeError`` while it runs)."""
        if not self.done():
            raise RuntimeError(f"task {self.name!r} is still running; await the handle instead")
        if self._cancelled:
            raise ScopeCancelledError(self._scope_name)
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait().__await__()

    async def _wait(self) -> T:
        await self._done.wait()
        return self.result()

    def _succeeded(self, value: Any) -> None:
        self._value, self._cancelled = value, False

    def _end(self) -> None:
        self._done.set()

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, anyio.get_cancelled_exc_class()):
            self._error, self._cancelled = error, False

    def __repr__(self) -> str:
        state = "running" if not self.done() else "cancelled" if self._cancelled else "done"
        return f"AsyncTaskHandle(name={self.name!r}, {state})"


class TaskHandle(Generic[T]):
    """A task spawned in a sync :class:`Scope` (it runs in the scope's thread pool)."""

    __slots__ = ("_future", "_scope_name", "name")

    def __init__(self, name: str, scope_name: str, future: concurrent.futures.Future[T]):
        self.name = name
        self._scope_name = scope_name
        self._future = future

    def done(self) -> bool:
        """True once the task has finished (or was cancelled before it started)."""
        return self._future.done()

    def cancelled(self) -> bool:
        """True if the task was cancelled with its scope instead of finishing."""
        if self._future.cancelled():
            return True
        return self.done() and isinstance(self._future.exception(), ScopeCancelledError)

    def result(self, timeout: float | None = None) -> T:
        """Wait for the task (up to ``timeout`` seconds); return its result or raise its error."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.CancelledError as exc:
            if isinstance(exc, ScopeCancelledError):
                raise
            raise ScopeCancelledError(self._scope_name) from None

    def __repr__(self) -> str:
        state = "running" if not self.done() else "cancelled" if self.cancelled() else "done"
        return f"TaskHandle(name={self.name!r}, {state})"
