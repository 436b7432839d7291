"""``AsyncScope.task()``: one task with idempotency, timeout, retries and checkpoints.

The layers, outermost first: the idempotency claim (so retries happen under one claim and a
duplicate replays the final result), the timeout (covering every attempt), the retry loop, and
per attempt the checkpoint load (so a retry continues from the last save).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from goscope_redis.claims import ClaimPoller, error_envelope, keep_alive, replay
from goscope_redis.errors import SerializationError
from goscope_redis.idempotency_records import Claim
from goscope_redis.scope._checkpoint import AsyncCheckpointer, TaskContext
from goscope_redis.scope._options import Idempotency, TaskSpec

if TYPE_CHECKING:
    from goscope_redis.scope._async import AsyncScope

TaskFn = Callable[..., Any]


async def call_async(fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """Await ``fn(*args)``; a function that is not async is a usage error."""
    result = fn(*args)
    if not inspect.isawaitable(result):
        raise TypeError(
            f"{fn!r} returned {type(result).__name__}, not an awaitable: an async scope runs "
            "async functions (use the sync scope, or anyio.to_thread, for blocking code)"
        )
    return await result


async def run_task(scope: AsyncScope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    """Run one task with its options and report it to the hooks."""
    started = scope._task_started(spec.name)
    error: BaseException | None = None
    try:
        if spec.idempotency is None:
            return await _timed(scope, spec, fn, args)
        return await _idempotent(scope, spec, spec.idempotency, fn, args)
    except BaseException as exc:
        error = exc
        raise
    finally:
        scope._task_ended(spec.name, started, error)


async def _idempotent(
    scope: AsyncScope, spec: TaskSpec, options: Idempotency, fn: TaskFn, args: tuple[Any, ...]
) -> Any:
    store = scope._idempotency_store()
    claim = await _claim(store, options)
    if claim.status == "completed":
        value = replay(claim)
        scope._replayed(options.key)
        return value
    heartbeat = asyncio.get_running_loop().create_task(
        keep_alive(store, claim, options.lease_ms)
    )  # a long task keeps its claim instead of letting a duplicate take it over
    try:
        try:
            result = await _timed(scope, spec, fn, args)
        finally:
            heartbeat.cancel()
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            if options.store_errors and isinstance(exc, Exception):
                await store.complete(claim, error_envelope(exc), options.ttl_ms, error=True)
            else:
                await store.abandon(claim)
        raise
    with anyio.CancelScope(shield=True):
        try:
            await store.complete(claim, result, options.ttl_ms)
        except SerializationError:
            await store.abandon(claim)
            raise
    return result


async def _claim(store: Any, options: Idempotency) -> Claim:
    poller = ClaimPoller(options.key, options.wait_ms)
    while True:
        claim: Claim = await store.begin(
            options.key, fingerprint=options.fingerprint, lease=options.lease_ms
        )
        pause = poller.pause(claim)
        if pause is None:
            return claim
        await anyio.sleep(pause)


async def _timed(scope: AsyncScope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    if spec.timeout_ms is None:
        return await _attempts(scope, spec, fn, args)
    with anyio.move_on_after(spec.timeout_ms / 1000):
        return await _attempts(scope, spec, fn, args)
    raise TimeoutError(f"task {spec.name!r} timed out after {spec.timeout_ms} ms")


async def _attempts(scope: AsyncScope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...]) -> Any:
    attempt = 1
    while True:
        try:
            return await _attempt(scope, spec, fn, args, attempt)
        except Exception as exc:
            if not spec.retry.should_retry(exc, attempt):
                raise
            scope._retrying(spec.name, attempt, exc)
            await anyio.sleep(spec.retry.delay_ms(attempt) / 1000)
            attempt += 1


async def _attempt(
    scope: AsyncScope, spec: TaskSpec, fn: TaskFn, args: tuple[Any, ...], attempt: int
) -> Any:
    if not spec.checkpoint:
        return await call_async(fn, args)
    assert spec.task_id is not None
    adapter = scope._require("checkpoints")
    latest = await adapter.load_latest_checkpoint(spec.task_id)
    checkpointer = AsyncCheckpointer(adapter, spec.task_id, latest)
    ctx = TaskContext(spec.task_id, attempt, checkpointer, scope)
    result = await call_async(fn, (ctx, *args))
    with anyio.CancelScope(shield=True):
        # Finished: nothing is left to resume from. (A failure keeps them for the next run.)
        await adapter.delete_checkpoints(spec.task_id)
    return result
