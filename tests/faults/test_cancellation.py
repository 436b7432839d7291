"""Async cancellation at every await point of acquire, lock(), release, begin and complete.

Replies pass through :class:`DelayProxy`, so sweeping the cancel time over a few reply delays
lands it before the command is sent, while it is in flight, and after the reply arrived. After
each cancellation: nothing is orphaned in Redis, and the *same* client's next command gets its
own reply (the redis-py CVE-2023-28859 class: a cancelled command's reply read by the next one).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter
from tests.faults.proxy import DelayProxy

DELAY_S = 0.005
# Cancel times from 0 to 4.5 reply delays; scripts/ci-extra sweeps a finer grid.
POINTS = int(os.environ.get("GOSCOPE_CANCEL_POINTS", "8"))
CANCEL_AT_S = [i * DELAY_S * 4.5 / (POINTS - 1) for i in range(POINTS)]


async def _cancel_at(make: Callable[[], Awaitable[Any]], at: float) -> Any:
    """Start ``make()``, cancel it after ``at`` seconds; return its result or ``None``."""
    task = asyncio.ensure_future(make())
    await asyncio.sleep(at)
    requested = task.cancel()  # False: it had already finished
    try:
        result = await task
    except asyncio.CancelledError:
        return None
    # Python 3.11's asyncio.wait_for (which redis-py sends under) can swallow a cancel; the
    # runner must re-raise it, or a cancelled waiter would keep waiting.
    assert not requested, f"a cancel at {at}s was swallowed"
    return result


async def _settle() -> None:
    await asyncio.sleep(DELAY_S * 4)  # let stray replies arrive (there must be none)


async def _eventually(check: Callable[[], Any], what: str) -> None:
    """A shielded call outlives its cancelled caller: wait (boundedly) for it to land."""
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(what)


async def _assert_in_sync(client: Any, adapter: AsyncRedisAdapter, i: int) -> None:
    assert await client.set(f"sync:{i}", i) is True
    assert await client.get(f"sync:{i}") == str(i).encode()
    await adapter.set("probe", {"i": i})
    assert await adapter.get("probe") == {"i": i}


def _run(fault_server: Any, prefix: str, body: Callable[..., Awaitable[None]]) -> None:
    raw = redis.Redis(port=fault_server.port)  # direct: what Redis really holds

    async def main() -> None:
        with DelayProxy(fault_server.port, DELAY_S) as proxy:
            client = redis.asyncio.Redis(port=proxy.port)
            adapter = AsyncRedisAdapter(client, prefix)
            for i, at in enumerate(CANCEL_AT_S):
                await body(adapter, raw, at)
                await _settle()
                await _assert_in_sync(client, adapter, i)
            await client.aclose()

    asyncio.run(main())
    raw.close()


@pytest.mark.parametrize("how", ["acquire", "lock"])
def test_cancelled_acquire_leaves_no_orphaned_lock(fault_server, prefix, how):
    key = f"{prefix}lock:{{job}}"

    async def body(adapter: AsyncRedisAdapter, raw: redis.Redis, at: float) -> None:
        if how == "acquire":
            handle = await _cancel_at(lambda: adapter.acquire("job", 30_000), at)
        else:
            handle = await _cancel_at(lambda: adapter.lock("job", 30_000).__aenter__(), at)
        await _settle()
        if handle is None:
            assert raw.exists(key) == 0, f"orphaned lock after a cancel at {at}s"
        else:
            assert raw.get(key) == handle.owner.encode()
            assert await handle.release()

    _run(fault_server, prefix, body)


def test_cancelled_waiter_takes_nothing_from_the_holder(fault_server, prefix):
    key = f"{prefix}lock:{{job}}"

    async def body(adapter: AsyncRedisAdapter, raw: redis.Redis, at: float) -> None:
        holder = await adapter.acquire("job", 30_000)
        assert holder is not None
        got = await _cancel_at(lambda: adapter.lock("job", 30_000, wait=5_000).__aenter__(), at)
        assert got is None
        await _settle()
        assert raw.get(key) == holder.owner.encode()
        assert await holder.release()

    _run(fault_server, prefix, body)


def test_cancelled_release_still_releases(fault_server, prefix):
    key = f"{prefix}lock:{{job}}"

    async def body(adapter: AsyncRedisAdapter, raw: redis.Redis, at: float) -> None:
        handle = await adapter.acquire("job", 30_000)
        assert handle is not None
        await _cancel_at(handle.release, at)
        await _eventually(lambda: raw.exists(key) == 0, f"release cancelled at {at}s: lock kept")

    _run(fault_server, prefix, body)


def test_cancelled_begin_leaves_no_orphaned_claim(fault_server, prefix):
    key = f"{prefix}idempotency:{{req}}"

    async def body(adapter: AsyncRedisAdapter, raw: redis.Redis, at: float) -> None:
        idem = adapter.idempotency
        claim = await _cancel_at(lambda: idem.begin("req", lease=30_000), at)
        await _settle()
        if claim is None:
            assert raw.exists(key) == 0, f"orphaned claim after a cancel at {at}s"
        else:
            assert claim.status == "started"
            assert await idem.abandon(claim)

    _run(fault_server, prefix, body)


def test_cancelled_complete_still_stores_the_result(fault_server, prefix):
    async def body(adapter: AsyncRedisAdapter, raw: redis.Redis, at: float) -> None:
        idem = adapter.idempotency
        claim = await idem.begin("req", lease=30_000)
        assert claim.status == "started"
        await _cancel_at(lambda: idem.complete(claim, {"at": at}, ttl=60_000), at)
        record_key = f"{adapter.key_prefix}idempotency:{{req}}"
        await _eventually(
            lambda: raw.hget(record_key, "s") == b"ok", f"complete cancelled at {at}s: not stored"
        )
        record = await idem.get("req")
        assert record is not None and record.value == {"at": at}
        assert await idem.delete("req")

    _run(fault_server, prefix, body)


def test_a_cancel_landing_as_the_command_is_sent_is_never_swallowed(fault_server, prefix):
    # On a warm connection the first suspension is redis-py's send under asyncio.wait_for; a
    # cancel there used to be swallowed (the call returned normally, the waiter waited on).
    async def main() -> None:
        with DelayProxy(fault_server.port, DELAY_S) as proxy:
            client = redis.asyncio.Redis(port=proxy.port)
            adapter = AsyncRedisAdapter(client, prefix)
            calls = {
                "acquire": lambda: adapter.acquire("job", 30_000),
                "begin": lambda: adapter.idempotency.begin("req", lease=30_000),
                "get": lambda: adapter.get("k"),
                "breaker": lambda: adapter.circuit_breaker("svc").call(lambda: 1),
            }
            for name, make in calls.items():
                for i in range(5):
                    await client.ping()  # warm: the next command reuses this connection
                    assert await _cancel_at(make, 0) is None, name
                    await _settle()
                    await _assert_in_sync(client, adapter, i)
            await client.aclose()
        raw = redis.Redis(port=fault_server.port)
        assert raw.keys(f"{prefix}lock:{{job}}") == []
        assert raw.keys(f"{prefix}idempotency:*") == []
        raw.close()

    asyncio.run(main())
