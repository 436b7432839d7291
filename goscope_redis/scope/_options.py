"""Task options (``Idempotency``, ``Retry``) and their validation into a ``TaskSpec``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from goscope_redis.durations import optional_ms, to_ms, wait_ms
from goscope_redis.errors import ScopeCancelledError
from goscope_redis.keys import validate_key

Duration = int | float | timedelta


@dataclass(frozen=True, slots=True)
class Idempotency:
    """Run a task once per ``key`` across every process; later calls replay its result.

    ``ttl`` (ms, default one day; ``None``: no expiry) is how long the result is kept. It does
    not slide when the result is replayed. A concurrent duplicate waits up to ``wait`` ms for
    the first call to finish (``None``: until it finishes or its ``lease`` runs out, after which
    the waiter runs the task itself; ``0``: raise ``IdempotencyInProgressError`` at once). The
    ``lease`` (ms) must cover the task's run time: a claim older than that counts as crashed.
    A failure releases the key unless ``store_errors``; a stored failure replays as
    ``IdempotencyStoredError``. With a ``fingerprint``, reusing the key with another fingerprint
    raises ``IdempotencyMismatchError``.
    """

    key: str
    ttl: Duration | None = 86_400_000
    wait: Duration | None = None
    lease: Duration = 60_000
    fingerprint: str | None = None
    store_errors: bool = False

    def __post_init__(self) -> None:
        validate_key(self.key)
        optional_ms(self.ttl, "ttl")
        wait_ms(self.wait)
        to_ms(self.lease, "lease")
        if self.fingerprint is not None and (
            not isinstance(self.fingerprint, str) or not self.fingerprint
        ):
            raise ValueError(f"idempotency key {self.key!r}: fingerprint must be a non-empty str")

    @property
    def ttl_ms(self) -> int | None:
        """``ttl`` in milliseconds."""
        return optional_ms(self.ttl, "ttl")

    @property
    def wait_ms(self) -> int | None:
        """``wait`` in milliseconds (``None``: no limit)."""
        return wait_ms(self.wait)

    @property
    def lease_ms(self) -> int:
        """``lease`` in milliseconds."""
        return to_ms(self.lease, "lease")


@dataclass(frozen=True, slots=True)
class Retry:
    """Run a failing task up to ``attempts`` times in all.

    The pause after the n-th failure is ``backoff * multiplier ** (n - 1)`` ms, capped at
    ``max_backoff``. Only exceptions in ``retry_on`` are retried; cancellation never is.
    """

    attempts: int = 3
    backoff: Duration = 100
    multiplier: float = 2.0
    max_backoff: Duration | None = None
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        attempts = self.attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"Retry.attempts must be an int >= 1, got {attempts!r}")
        if self.backoff != 0:
            to_ms(self.backoff, "backoff")
        optional_ms(self.max_backoff, "max_backoff")
        if isinstance(self.multiplier, bool) or not self.multiplier >= 1:
            raise ValueError(f"Retry.multiplier must be a number >= 1, got {self.multiplier!r}")
        if not all(isinstance(t, type) and issubclass(t, BaseException) for t in self.retry_on):
            raise TypeError(f"Retry.retry_on must hold exception classes, got {self.retry_on!r}")

    def delay_ms(self, failed_attempt: int) -> float:
        """The pause (ms) after attempt number ``failed_attempt`` (1-based) failed."""
        base = 0 if self.backoff == 0 else to_ms(self.backoff, "backoff")
        delay = base * self.multiplier ** (failed_attempt - 1)
        cap = optional_ms(self.max_backoff, "max_backoff")
        return delay if cap is None else min(delay, cap)

    def should_retry(self, error: BaseException, failed_attempt: int) -> bool:
        """Whether to run again after ``error`` ended attempt ``failed_attempt``."""
        return (
            failed_attempt < self.attempts
            and isinstance(error, self.retry_on)
            and not isinstance(error, ScopeCancelledError)
        )


NO_RETRY = Retry(attempts=1)


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """The validated options of one ``scope.task(...)`` call."""

    name: str
    task_id: str | None
    idempotency: Idempotency | None
    checkpoint: bool
    retry: Retry
    timeout_ms: int | None


def task_spec(
    fn: Callable[..., Any],
    task_id: str | None,
    idempotency: Idempotency | None,
    checkpoint: bool,
    retry: Retry | None,
    timeout: Any,
) -> TaskSpec:
    """Validate the options of ``task()``; nothing has run or been written yet."""
    if not callable(fn):
        raise TypeError(f"task() needs a callable, got {fn!r}")
    if task_id is not None:
        validate_key(task_id)
    if checkpoint and task_id is None:
        raise ValueError(
            f"checkpoint=True needs a stable id= for {task_name(fn)!r}: a resumed run finds its "
            "checkpoints by that id, so it must be the same in the next process"
        )
    if idempotency is not None and not isinstance(idempotency, Idempotency):
        raise TypeError(f"idempotency= must be an Idempotency(...), got {idempotency!r}")
    if retry is not None and not isinstance(retry, Retry):
        raise TypeError(f"retry= must be a Retry(...), got {retry!r}")
    name = task_id if task_id is not None else task_name(fn)
    timeout_ms = optional_ms(timeout, "timeout")
    return TaskSpec(name, task_id, idempotency, bool(checkpoint), retry or NO_RETRY, timeout_ms)


def task_name(fn: Callable[..., Any]) -> str:
    """A readable name for a task function: its qualified name without ``<locals>``.

    ``s.spawn(partial(s.task, fn, id="job"))`` is named after the task's id (else ``fn``); any
    other ``partial`` after the function it wraps.
    """
    if isinstance(fn, functools.partial):
        return _partial_name(fn)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name).rsplit("<locals>.", 1)[-1] if name else repr(fn)


def _partial_name(fn: functools.partial[Any]) -> str:
    task_id = fn.keywords.get("id")
    if _is_scope_method(fn.func, "task"):
        if isinstance(task_id, str) and task_id:
            return task_id
        if fn.args:
            return task_name(fn.args[0])
    if _is_scope_method(fn.func, "resume_task") and fn.args:
        return str(fn.args[0])
    return task_name(fn.func)


def _is_scope_method(fn: object, name: str) -> bool:
    owner = getattr(fn, "__self__", None)
    return getattr(fn, "__name__", None) == name and hasattr(owner, "_task_started")
