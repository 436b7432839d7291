"""What the spawned children do (module-level functions: children start with ``spawn``).

Each target receives ``events`` (a queue it reports on) and ``go`` (an event the test sets), and
reports an ``("error", repr)`` event instead of dying silently.
"""

from __future__ import annotations

import asyncio
import functools
import time
import traceback
from collections.abc import Callable
from typing import Any

from goscope_redis import AsyncRedisAdapter, LockLostError, RedisAdapter, idempotent, scope
from tests.faults.fenced import FencedStore


def reporting(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Send an ``error`` event (with the traceback) if the target raises."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        events = args[-2]
        try:
            return fn(*args)
        except BaseException:
            events.put(("error", traceback.format_exc()))
            raise

    return run


# ---- a holder that gets paused past its TTL ---------------------------------------------------


@reporting
def hold_lock_and_write(
    url: str, prefix: str, store_url: str, store_key: str, mode: str, events: Any, go: Any
) -> None:
    """Hold ``job`` (1 s lease, auto-extended), wait for ``go``, then try a fenced write."""
    store = FencedStore(store_url, store_key)
    if mode == "sync":
        outcome = _hold_sync(RedisAdapter.from_url(url, prefix), store, events, go)
    else:
        outcome = asyncio.run(_hold_async(url, prefix, store, events, go))
    events.put(("done", outcome))


def _hold_sync(adapter: RedisAdapter, store: FencedStore, events: Any, go: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    try:
        with adapter.lock("job", ttl=1_000) as handle:
            events.put(("acquired", handle.fencing_token))
            go.wait(60)
            deadline = time.monotonic() + 5
            while not handle.lost and time.monotonic() < deadline:
                time.sleep(0.01)  # the renewal thread runs right after SIGCONT
            outcome["lost_seen"] = handle.lost
            outcome["accepted"] = store.write(handle.fencing_token, "first holder")
            outcome["valid"] = handle.is_valid()
    except LockLostError as exc:
        outcome["error"] = type(exc).__name__
    return outcome


async def _hold_async(
    url: str, prefix: str, store: FencedStore, events: Any, go: Any
) -> dict[str, Any]:
    adapter = AsyncRedisAdapter.from_url(url, prefix)
    outcome: dict[str, Any] = {}
    try:
        async with adapter.lock("job", ttl=1_000) as handle:
            events.put(("acquired", handle.fencing_token))
            while not go.is_set():
                await asyncio.sleep(0.01)  # keep the loop (and the renewal task) running
            deadline = time.monotonic() + 5
            while not handle.lost and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            outcome["lost_seen"] = handle.lost
            outcome["accepted"] = store.write(handle.fencing_token, "first holder")
            outcome["valid"] = await handle.is_valid()
    except LockLostError as exc:
        outcome["error"] = type(exc).__name__
    await adapter.disconnect()
    return outcome


# ---- children that get SIGKILLed mid-operation -------------------------------------------------


@reporting
def hold_lock_forever(url: str, prefix: str, ttl: int, events: Any, go: Any) -> None:
    """Take ``job`` with an auto-extended lease and never let go."""
    adapter = RedisAdapter.from_url(url, prefix)
    with adapter.lock("job", ttl=ttl) as handle:
        events.put(("acquired", handle.fencing_token))
        go.wait(120)


@reporting
def idempotent_request_forever(url: str, prefix: str, lease: int, events: Any, go: Any) -> None:
    """Start ``@idempotent`` work (its claim kept alive) and hang inside it."""
    adapter = RedisAdapter.from_url(url, prefix)

    @idempotent(key="charge:{payment_id}", lease=lease, adapter=adapter)
    def charge(payment_id: int) -> str:
        events.put(("running", payment_id))
        go.wait(120)
        return "charged"

    charge(9)


@reporting
def probe_forever(url: str, prefix: str, probe_lease: int, events: Any, go: Any) -> None:
    """Be the half-open probe of an open breaker, and hang inside the probe."""
    adapter = RedisAdapter.from_url(url, prefix)
    breaker = adapter.circuit_breaker(
        "payments", failure_threshold=1, reset_timeout=200, probe_lease=probe_lease
    )

    def probe() -> None:
        events.put(("probing", None))
        go.wait(120)

    breaker.call(probe)


ROWS = 40


def import_rows(ctx: Any, events: Any, pause: float) -> list[int]:
    """Process rows from the latest checkpoint on, saving one checkpoint per row."""
    start = ctx.checkpoint.data or 0
    events.put(("started", {"from": start, "resumed": ctx.checkpoint.resumed}))
    done = []
    for row in range(start, ROWS):
        time.sleep(pause)  # the real work
        done.append(row)
        ctx.checkpoint.save(row + 1, progress=100 * (row + 1) / ROWS)
        events.put(("saved", row + 1))
    return done


@reporting
def checkpointed_import(url: str, prefix: str, events: Any, go: Any) -> None:
    """Run ``import_rows`` as a checkpointed scope task (the test kills it midway)."""
    adapter = RedisAdapter.from_url(url, prefix)
    with scope(persistence=adapter, name="importer") as s:
        s.task(import_rows, events, 0.05, id="import:2026-11", checkpoint=True)
    events.put(("finished", None))
