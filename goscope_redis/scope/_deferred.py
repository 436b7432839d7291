"""``DeferredScope``: a request's :class:`AsyncScope`, created the first time anyone asks for it.

A web middleware gives every request a scope, yet most handlers never touch it. On asyncio the
middleware binds a ``DeferredScope`` instead: it records the request's task (the scope's body)
and costs one small object. ``current_scope()``, ``request.state.scope``, a disconnect or the
middleware itself turn it into the real, already-entered scope on first use; from then on every
caller gets that same scope. If nobody asked, the request ends with nothing to leave.

It holds the task by a weak reference. A strong one would close a cycle while the request runs
(the task's context holds this object, which would hold the task), and under load such
cycles make the garbage collector work measurably harder on every request, for a scope most
requests never create. Once created, the scope's body holds the task as usual.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis.scope._async import AsyncScope
from goscope_redis.scope._bodies import NativeBody
from goscope_redis.scope._context import Deferred


class DeferredScope(Deferred):
    """The scope of the running request's task, entered lazily (see the module doc)."""

    __slots__ = ("_baseline", "_method", "_path", "_persistence", "_task", "scope")

    def __init__(
        self,
        persistence: AsyncRedisAdapter | None,
        task: asyncio.Task[Any] | None,
        method: str,
        path: str,
    ) -> None:
        """``task`` is the request's; ``None`` only when ``scope`` is set at once to an entered
        scope (off asyncio, where nothing can be deferred)."""
        self._persistence = persistence
        self._task = None if task is None else weakref.ref(task)
        self._baseline = 0 if task is None else task.cancelling()
        self._method = method
        self._path = path
        self.scope: AsyncScope | None = None

    def resolve(self) -> AsyncScope:
        """The request's scope, entered on the request's task the first time it is asked for."""
        found = self.scope
        if found is None:
            name = f"{self._method} {self._path}"
            task = None if self._task is None else self._task()
            if task is None or task.done():
                raise RuntimeError(
                    f"the request {name!r} is over: its scope can no longer be created "
                    "(use the scope while the request runs)"
                )
            body = NativeBody(task, None, self._baseline)
            found = self.scope = AsyncScope._adopt(self._persistence, name, body)
        return found

    def cancel(self) -> None:
        """Cancel the request's scope (and so its handler), creating it if need be."""
        self.resolve().cancel()

    async def close(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Leave the scope if it was ever created; like ``__aexit__`` (True: ``exc`` handled)."""
        if self.scope is None:
            return False
        return await self.scope.__aexit__(exc_type, exc, tb)
