"""What the sync and async scopes share: name path, persistence, hooks, breakers, lost locks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from goscope_redis.durations import optional_ms
from goscope_redis.errors import GoScopeRedisError, LockLostError
from goscope_redis.locking import BaseLockHandle
from goscope_redis.scope._context import bound
from goscope_redis.scope._hooks import Hooks

logger = logging.getLogger("goscope_redis")

A = TypeVar("A")
"""The persistence adapter type (``RedisAdapter`` or ``AsyncRedisAdapter``)."""

_TRANSITIONS = {"on_open": "open", "on_close": "closed", "on_half_open": "half-open"}


def _concurrency(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"concurrency must be an int >= 1 or None, got {value!r}")
    return value


def _path(parent: ScopeCore[Any] | None, name: str | None) -> str:
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"scope name must be a non-empty str, got {name!r}")
    own = name or "scope"
    return own if parent is None else f"{parent.name}/{own}"


class ScopeCore(Generic[A]):
    """Configuration and bookkeeping common to :class:`Scope` and :class:`AsyncScope`."""

    _adapter_types: tuple[type, ...] = ()

    def __init__(
        self,
        persistence: A | None,
        name: str | None,
        timeout: Any,
        concurrency: int | None,
        hooks: Hooks | None,
        parent: ScopeCore[A] | None,
    ) -> None:
        if persistence is not None and not isinstance(persistence, self._adapter_types):
            kinds = " or ".join(t.__name__ for t in self._adapter_types)
            raise TypeError(
                f"{type(self).__name__} needs persistence={kinds} (or None), "
                f"got {type(persistence).__name__}"
            )
        if hooks is not None and not isinstance(hooks, Hooks):
            raise TypeError(f"hooks= must be a Hooks(...), got {hooks!r}")
        self.name: str = _path(parent, name)
        self._persistence = persistence
        self._parent = parent
        self._timeout_ms = optional_ms(timeout, "timeout")
        self._concurrency = _concurrency(concurrency)
        self.hooks: Hooks = Hooks.chained(hooks, parent.hooks if parent is not None else None)
        self._lost: LockLostError | None = None
        self._idem: Any = parent._idem if parent is not None else None

    @property
    def persistence(self) -> A | None:
        """The persistence adapter this scope carries (``None`` for a scope without one)."""
        return self._persistence

    @property
    def cache(self) -> A:
        """The adapter's cache (``get``, ``set``, ``get_many``...), under its key prefix."""
        return self._require("cache")

    def _require(self, what: str) -> A:
        if self._persistence is None:
            raise GoScopeRedisError(
                f"scope {self.name!r} has no persistence, so it has no {what}; "
                "create it with scope(persistence=adapter)"
            )
        return self._persistence

    def circuit_breaker(self, name: str, **options: Any) -> Any:
        """The breaker ``name`` shared by every process (``adapter.circuit_breaker`` options).

        Its state changes are reported to the ``on_circuit_change`` hook.
        """
        adapter: Any = self._require("circuit breaker")
        for option, state in _TRANSITIONS.items():
            options[option] = self._circuit_callback(name, state, options.get(option))
        return adapter.circuit_breaker(name, **options)

    def _circuit_callback(
        self, name: str, state: str, user: Callable[[Any], Any] | None
    ) -> Callable[[Any], Any]:
        def changed(breaker: Any) -> Any:
            logger.info("goscope_redis: scope %r: circuit %r is %s", self.name, name, state)
            self.hooks.emit("on_circuit_change", name, state)
            return None if user is None else user(breaker)

        return changed

    def _task_started(self, name: str) -> float:
        logger.debug("goscope_redis: scope %r: task %r started", self.name, name)
        self.hooks.emit("on_task_start", name)
        return time.perf_counter()

    def _task_ended(self, name: str, started: float, error: BaseException | None) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "goscope_redis: scope %r: task %r ended in %.1f ms%s",
            self.name,
            name,
            duration_ms,
            "" if error is None else f" with {type(error).__name__}: {error}",
        )
        self.hooks.emit("on_task_end", name, duration_ms, error)

    def _retrying(self, name: str, attempt: int, error: BaseException) -> None:
        logger.info(
            "goscope_redis: scope %r: task %r attempt %d failed (%s: %s); retrying",
            self.name,
            name,
            attempt,
            type(error).__name__,
            error,
        )

    def _lock_acquired(self, handle: BaseLockHandle) -> None:
        logger.debug(
            "goscope_redis: scope %r: lock %r acquired (fencing token %s)",
            self.name,
            handle.key,
            handle.fencing_token,
        )
        self.hooks.emit("on_lock_acquired", handle.key, handle.fencing_token)

    def _lock_lost(self, handle: BaseLockHandle) -> None:
        """Auto-extension found ``handle``'s lease gone: cancel the scope and remember why."""
        if self._lost is None:
            self._lost = LockLostError(handle.key, handle.fencing_token)
        logger.warning(
            "goscope_redis: scope %r cancelled: lock %r (fencing token %s) was lost",
            self.name,
            handle.key,
            handle.fencing_token,
        )
        with bound(self):  # type: ignore[arg-type]
            self.hooks.emit("on_lock_lost", handle.key, handle.fencing_token)
        self._cancel_for_lost_lock()

    def _cancel_for_lost_lock(self) -> None:
        raise NotImplementedError

    def _replayed(self, key: str) -> None:
        logger.info("goscope_redis: scope %r: idempotency key %r replayed", self.name, key)
        self.hooks.emit("on_idempotent_replay", key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, persistence={self._persistence!r})"
