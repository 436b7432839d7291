"""The scope bound to the running task or thread, through a ``ContextVar``.

A ``ContextVar`` (not a thread-local) is what makes this right for asyncio and trio: each task
sees the scope that was bound when it was spawned, and a scope entered inside one task is
invisible to its siblings. Threads of a sync scope's pool run in a copy of the spawner's context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from goscope_redis.scope._async import AsyncScope
    from goscope_redis.scope._sync import Scope

AnyScope = Union["AsyncScope", "Scope"]

CURRENT: ContextVar[AnyScope | None] = ContextVar("goscope_redis_scope", default=None)


def current_scope() -> AnyScope | None:
    """The innermost scope entered in this task or thread (or by a middleware), else ``None``."""
    return CURRENT.get()


@contextmanager
def bound(scope: AnyScope) -> Iterator[None]:
    """Bind ``scope`` for a callback that runs outside the scope's own context."""
    token = CURRENT.set(scope)
    try:
        yield
    finally:
        CURRENT.reset(token)
