"""Scope hooks: callbacks for task, lock, circuit and idempotency events (metrics, logs).

A scope owns a :class:`Hooks`; a child scope's hooks also call every hook of its parent, so a
subscription made on a request's scope sees the events of all the scopes nested inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

logger = logging.getLogger("goscope_redis")

EVENTS: Final = (
    "on_task_start",
    "on_task_end",
    "on_lock_acquired",
    "on_lock_lost",
    "on_circuit_change",
    "on_idempotent_replay",
)
"""The events and their callback arguments:

* ``on_task_start(name)`` and ``on_task_end(name, duration_ms, error)`` (``error`` is ``None``
  on success, else the exception, including a cancellation);
* ``on_lock_acquired(key, fencing_token)`` and ``on_lock_lost(key, fencing_token)``;
* ``on_circuit_change(name, state)`` with ``state`` one of ``"open"``, ``"half-open"``,
  ``"closed"``;
* ``on_idempotent_replay(key)``: a stored result was returned instead of running the task.
"""

Callback = Callable[..., Any]


class Hooks:
    """Subscribable event callbacks. Callbacks are plain functions; one that raises is logged.

    ``Hooks(on_task_end=record)`` subscribes at creation; ``hooks.subscribe(...)`` later (it
    returns a function that unsubscribes). Inside a callback, ``current_scope()`` is the scope
    the event happened in.
    """

    __slots__ = ("_parents", "_subs")

    def __init__(self, **callbacks: Callback | None) -> None:
        self._subs: dict[str, tuple[Callback, ...]] = {}
        self._parents: tuple[Hooks, ...] = ()
        if callbacks:
            self.subscribe(**callbacks)

    @classmethod
    def chained(cls, *parents: Hooks | None) -> Hooks:
        """Empty hooks that also call each of ``parents`` (those that are not ``None``)."""
        # Built field by field: a scope per HTTP request makes this a hot path.
        hooks = cls.__new__(cls)
        hooks._subs = {}
        hooks._parents = tuple([p for p in parents if p is not None])
        return hooks

    def subscribe(self, **callbacks: Callback | None) -> Callable[[], None]:
        """Add callbacks by event name (``on_task_end=fn``); return an unsubscribe function."""
        added = {name: fn for name, fn in callbacks.items() if fn is not None}
        for name, fn in added.items():
            if name not in EVENTS:
                raise TypeError(f"unknown hook {name!r}; the events are {', '.join(EVENTS)}")
            if not callable(fn):
                raise TypeError(f"hook {name} must be callable, got {fn!r}")
        for name, fn in added.items():
            # Copy-on-write: emitters in other threads iterate a tuple that never changes.
            self._subs[name] = (*self._subs.get(name, ()), fn)

        def unsubscribe() -> None:
            for name, fn in added.items():
                self._subs[name] = tuple(f for f in self._subs.get(name, ()) if f is not fn)

        return unsubscribe

    def emit(self, event: str, *args: Any) -> None:
        """Call every subscriber of ``event`` here and in the parents; errors are logged only."""
        for fn in self._subs.get(event, ()):
            try:
                fn(*args)
            except Exception:
                # A metrics or logging bug must never break the work it observes.
                logger.exception("goscope_redis: %s hook %r raised", event, fn)
        for parent in self._parents:
            parent.emit(event, *args)

    def __repr__(self) -> str:
        counts = {name: len(fns) for name, fns in self._subs.items() if fns}
        return f"Hooks({counts}, parents={len(self._parents)})"
