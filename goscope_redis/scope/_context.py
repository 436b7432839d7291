"""The scope bound to the running task or thread, through a ``ContextVar``.

A ``ContextVar`` (not a thread-local) is what makes this right for asyncio and trio: each task
sees the scope that was bound when it was spawned, and a scope entered inside one task is
invisible to its siblings. Threads of a sync scope's pool run in a copy of the spawner's context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from goscope_redis.scope._async import AsyncScope
    from goscope_redis.scope._sync import Scope

AnyScope = Union["AsyncScope", "Scope"]

CURRENT: ContextVar[Any] = ContextVar("goscope_redis_scope", default=None)
"""The bound scope: a ``Scope``, an ``AsyncScope`` or a ``DeferredScope`` (resolved on read)."""


class Deferred:
    """A scope bound before it exists; :meth:`resolve` creates (once) and returns it."""

    __slots__ = ()

    def resolve(self) -> AsyncScope:
        """The scope itself."""
        raise NotImplementedError


def current_scope() -> AnyScope | None:
    """The innermost scope entered in this task or thread (or by a middleware), else ``None``."""
    found = CURRENT.get()
    if isinstance(found, Deferred):
        return found.resolve()  # a request's deferred scope: create it now
    return found  # type: ignore[no-any-return]


@contextmanager
def bound(scope: AnyScope) -> Iterator[None]:
    """Bind ``scope`` for a callback that runs outside the scope's own context."""
    token = CURRENT.set(scope)
    try:
        yield
    finally:
        CURRENT.reset(token)
