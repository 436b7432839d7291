"""``Scope.task()``: the sync twin of :mod:`goscope_redis.scope._async_task` (same layers).

A sync task cannot be interrupted, so its ``timeout`` is cooperative: the task runs in a child
scope whose deadline it observes through ``ctx.scope.check()`` or ``current_scope().check()``,
and the retry pauses and idempotency polls wake up at the deadline.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from goscope_redis.claims import ClaimLease, ClaimPoller, error_envelope, replay
from goscope_redis.errors import SerializationError
from goscope_redis.idempotency_records import Claim
from goscope_redis.scope._checkpoint import SyncCheckpointer, TaskContext
from goscope_redis.scope._options import Idempotency, TaskSpec

if TYPE_CHECKING:
    from goscope_redis.scope._sync import Scope

TaskFn = Callable[..., Any]


def call_sync(fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """Call ``fn(*args)``; an async function is a usage error in a sync scope."""
    result = fn(*args)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()  # no "coroutine was never awaited" warning on top of the error
        raise TypeError(
            f"{fn!r} returned an awaitable: a sync scope runs plain functions "
            "(use an AsyncRedisAdapter and `async with scope(...)` for async code)"
        )
    return result


def run_task(scope: Scope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """Run one task with its options and report it to the hooks."""
    started = scope._task_started(spec.name)
    error: BaseException | None = None
    try:
        if spec.idempotency is None:
            return _timed(scope, spec, fn, args)
        return _idempotent(scope, spec, spec.idempotency, fn, args)
    except BaseException as exc:
        error = exc
        raise
    finally:
        scope._task_ended(spec.name, started, error)


def _idempotent(
    scope: Scope, spec: TaskSpec, options: Idempotency, fn: TaskFn, args: tuple[Any, ...]
) -> Any:
    store = scope._idempotency_store()
    claim = _claim(scope, store, options)
    if claim.status == "completed":
        value = replay(claim)
        scope._replayed(options.key)
        return value
    lease = scope._require("idempotency")._renewer.add(
        ClaimLease(store, claim, options.lease_ms), None
    )
    try:
        try:
            result = _timed(scope, spec, fn, args)
        finally:
            lease.cancel()  # a long task keeps its claim; stop before complete/abandon
    except Exception as exc:
        if options.store_errors:
            store.complete(claim, error_envelope(exc), options.ttl_ms, error=True)
        else:
            store.abandon(claim)
        raise
    except BaseException:
        store.abandon(claim)
        raise
    try:
        store.complete(claim, result, options.ttl_ms)
    except SerializationError:
        store.abandon(claim)
        raise
    return result


def _claim(scope: Scope, store: Any, options: Idempotency) -> Claim:
    poller = ClaimPoller(options.key, options.wait_ms)
    while True:
        claim: Claim = store.begin(
            options.key, fingerprint=options.fingerprint, lease=options.lease_ms
        )
        pause = poller.pause(claim)
        if pause is None:
            return claim
        scope._sleep(pause)


def _timed(scope: Scope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    if spec.timeout_ms is None:
        return _attempts(scope, spec, fn, args)
    with scope.scope(spec.name, timeout=spec.timeout_ms) as child:
        return _attempts(child, spec, fn, args)


def _attempts(scope: Scope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    attempt = 1
    while True:
        try:
            return _attempt(scope, spec, fn, args, attempt)
        except Exception as exc:
            if not spec.retry.should_retry(exc, attempt):
                raise
            scope._retrying(spec.name, attempt, exc)
            scope._sleep(spec.retry.delay_ms(attempt) / 1000)
            attempt += 1


def _attempt(scope: Scope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...], attempt: int) -> Any:
    if not spec.checkpoint:
        return call_sync(fn, args)
    assert spec.task_id is not None
    adapter = scope._require("checkpoints")
    latest = adapter.load_latest_checkpoint(spec.task_id)
    checkpointer = SyncCheckpointer(adapter, spec.task_id, latest)
    result = call_sync(fn, (TaskContext(spec.task_id, attempt, checkpointer, scope), *args))
    # Finished: nothing is left to resume from. (A failure keeps them for the next run.)
    adapter.delete_checkpoints(spec.task_id)
    return result
