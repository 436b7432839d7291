"""Redis frozen (SIGSTOP) for 3 s under clients with a 0.5 s socket timeout and no retries.

Every primitive answers within about a second with a typed timeout or its failure policy:
cache fail-open in ``@cached``, locks and idempotency fail-closed (the protected code never
runs), the breaker on its process-local fallback. After SIGCONT the very same clients work, and
their replies match their requests (no connection left out of sync).

The bound is ``socket_timeout x (1 + retries)`` of the client's own retry policy, so these
clients use ``Retry(NoBackoff(), 0)``; redis-py's default policy retries (and so waits) longer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from goscope_redis import (
    AsyncRedisAdapter,
    Checkpoint,
    RedisAdapter,
    cached,
    idempotent,
    with_lock,
)

PAUSE_S = 3.0
BOUND_S = 1.5  # "about 1 s", with room for a loaded 2-core machine
LEASE_MS = 2_000
CLIENT = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "retry": Retry(NoBackoff(), 0)}
# redis-py >= 8.2 warns when an asyncio client is handed the sync Retry.
ASYNC_CLIENT = {**CLIENT, "retry": AsyncRetry(NoBackoff(), 0)}


def _outcome(call: Callable[[], Any]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        result = call()
    except RedisTimeoutError:
        return "timeout", time.monotonic() - started
    except Exception as exc:  # anything else is a failure of the test
        return f"unexpected {type(exc).__name__}: {exc}", time.monotonic() - started
    return f"value {result!r}", time.monotonic() - started


def _sync_calls(adapter: RedisAdapter, ran: list[str]) -> dict[str, Callable[[], Any]]:
    @cached(ttl=60_000, key="report", adapter=adapter)
    def report() -> str:
        return "computed"

    @with_lock("orders:{n}", ttl=LEASE_MS, wait=1_000, adapter=adapter)
    def protected(n: int) -> None:
        ran.append("with_lock")

    @idempotent(key="charge:{n}", lease=LEASE_MS, adapter=adapter)
    def charge(n: int) -> None:
        ran.append("idempotent")

    breaker = adapter.circuit_breaker("payments")
    return {
        "cache.get": lambda: adapter.get("k"),
        "@cached": report,
        "acquire": lambda: adapter.acquire("job", LEASE_MS),
        "lock()": lambda: adapter.lock("job2", LEASE_MS, wait=1_000).__enter__(),
        "@with_lock": lambda: protected(1),
        "begin": lambda: adapter.idempotency.begin("req", lease=LEASE_MS),
        "@idempotent": lambda: charge(1),
        "breaker": lambda: breaker.call(lambda: "called"),
        "checkpoint": lambda: adapter.save_checkpoint(Checkpoint("task", 1, {})),
    }


EXPECTED = {
    "cache.get": "timeout",  # the core cache does not hide errors (fail-open is opt-in)
    "@cached": "value 'computed'",  # fail-open: computed without the cache
    "acquire": "timeout",  # fail-closed
    "lock()": "timeout",
    "@with_lock": "timeout",
    "begin": "timeout",
    "@idempotent": "timeout",
    "breaker": "value 'called'",  # process-local fallback
    "checkpoint": "timeout",
}


def test_sync_primitives_time_out_fast_and_recover_on_the_same_client(fault_server, prefix):
    adapter = RedisAdapter(redis.Redis(port=fault_server.port, **CLIENT), prefix)
    ran: list[str] = []
    calls = _sync_calls(adapter, ran)
    adapter.connect()  # scripts loaded, one pooled connection warm
    fault_server.pause()
    paused = time.monotonic()
    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = {name: pool.submit(_outcome, call) for name, call in calls.items()}
            outcomes = {name: future.result() for name, future in futures.items()}
        time.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused)))
    finally:
        fault_server.resume()
    assert {name: got for name, (got, _) in outcomes.items()} == EXPECTED
    slow = {name: round(took, 2) for name, (_, took) in outcomes.items() if took > BOUND_S}
    assert not slow, f"took longer than {BOUND_S} s: {slow}"
    assert ran == []  # fail-closed: nothing ran unprotected
    _assert_in_sync(adapter)
    _assert_leases_run_out(adapter)
    adapter.client.close()


def _assert_in_sync(adapter: RedisAdapter) -> None:
    for i in range(20):
        adapter.set(f"probe:{i}", i)
        assert adapter.get(f"probe:{i}") == i


def _assert_leases_run_out(adapter: RedisAdapter) -> None:
    # Commands that timed out may still run when Redis thaws (their bytes were sent). Whatever
    # they claimed is orphaned only until its lease ends.
    deadline = time.monotonic() + LEASE_MS / 1000 + 2.0
    for name in ("job", "job2", "orders:1"):
        with adapter.lock(name, 1_000, wait=3_000):
            pass
    while adapter.idempotency.begin("req", lease=LEASE_MS).status != "started":
        assert time.monotonic() < deadline, "an idempotency claim outlived its lease"
        time.sleep(0.1)


def test_async_primitives_time_out_fast_and_recover_on_the_same_client(fault_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=fault_server.port, **ASYNC_CLIENT)
        adapter = AsyncRedisAdapter(client, prefix)
        await adapter.connect()
        ran: list[str] = []
        calls = _async_calls(adapter, ran)
        fault_server.pause()
        paused = time.monotonic()
        try:
            results = await asyncio.gather(*(_aoutcome(call) for call in calls.values()))
            await asyncio.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused)))
        finally:
            fault_server.resume()
        outcomes = dict(zip(calls, results))
        assert {name: got for name, (got, _) in outcomes.items()} == EXPECTED
        slow = {name: round(took, 2) for name, (_, took) in outcomes.items() if took > BOUND_S}
        assert not slow, f"took longer than {BOUND_S} s: {slow}"
        assert ran == []
        for i in range(20):
            await adapter.set(f"probe:{i}", i)
            assert await adapter.get(f"probe:{i}") == i
        await client.aclose()

    asyncio.run(main())


async def _aoutcome(call: Callable[[], Any]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        result = await call()
    except RedisTimeoutError:
        return "timeout", time.monotonic() - started
    except Exception as exc:
        return f"unexpected {type(exc).__name__}: {exc}", time.monotonic() - started
    return f"value {result!r}", time.monotonic() - started


def _async_calls(adapter: AsyncRedisAdapter, ran: list[str]) -> dict[str, Callable[[], Any]]:
    @cached(ttl=60_000, key="report", adapter=adapter)
    async def report() -> str:
        return "computed"

    @with_lock("orders:{n}", ttl=LEASE_MS, wait=1_000, adapter=adapter)
    async def protected(n: int) -> None:
        ran.append("with_lock")

    @idempotent(key="charge:{n}", lease=LEASE_MS, adapter=adapter)
    async def charge(n: int) -> None:
        ran.append("idempotent")

    breaker = adapter.circuit_breaker("payments")

    async def called() -> str:
        return "called"

    return {
        "cache.get": lambda: adapter.get("k"),
        "@cached": report,
        "acquire": lambda: adapter.acquire("job", LEASE_MS),
        "lock()": lambda: adapter.lock("job2", LEASE_MS, wait=1_000).__aenter__(),
        "@with_lock": lambda: protected(1),
        "begin": lambda: adapter.idempotency.begin("req", lease=LEASE_MS),
        "@idempotent": lambda: charge(1),
        "breaker": lambda: breaker.call(called),
        "checkpoint": lambda: adapter.save_checkpoint(Checkpoint("task", 1, {})),
    }
