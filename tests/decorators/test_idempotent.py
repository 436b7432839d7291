"""@idempotent: one execution per key across processes, replay, mismatch, retry after error."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from goscope_redis import (
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
    idempotent,
)

from ..procs import run_workers


def test_second_call_replays_without_running(configured, raw):
    calls = []

    @idempotent(key="charge:{payment_id}", ttl=60_000)
    def charge(payment_id: str, amount: int) -> dict:
        calls.append(payment_id)
        return {"charged": amount}

    assert charge("p1", 10) == {"charged": 10}
    assert charge("p1", 10) == {"charged": 10}
    assert calls == ["p1"]
    assert raw.exists(f"{configured}idempotency:{{charge:p1}}")


def test_reuse_with_different_arguments_raises_mismatch(configured):
    @idempotent(key="charge:{payment_id}")
    def charge(payment_id: str, amount: int) -> int:
        return amount

    charge("p1", 10)
    with pytest.raises(IdempotencyMismatchError):
        charge("p1", 99)


def test_error_releases_the_key_and_retry_runs(configured):
    attempts = []

    @idempotent(key="job:{n}")
    def flaky(n: int) -> str:
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return "ok"

    with pytest.raises(RuntimeError):
        flaky(1)
    assert flaky(1) == "ok"
    assert flaky(1) == "ok"
    assert attempts == [1, 1]


def test_stored_error_is_replayed_as_error_never_success(configured):
    calls = []

    @idempotent(key="job:{n}", store_errors=True)
    def failing(n: int) -> str:
        calls.append(n)
        raise ValueError("card declined")

    with pytest.raises(ValueError):
        failing(1)
    with pytest.raises(IdempotencyStoredError, match="card declined"):
        failing(1)
    assert calls == [1]


def test_in_progress_duplicate_with_wait_zero_raises(configured, sync_adapter):
    sync_adapter.idempotency.begin("busy", lease=5_000)

    @idempotent(key="busy", wait=0, fingerprint=False)
    def work() -> None: ...

    with pytest.raises(IdempotencyInProgressError):
        work()


def test_async_function_and_dataclass_result(configured):
    @dataclasses.dataclass
    class Receipt:
        id: str
        amount: int

    calls = []

    @idempotent(key="r:{rid}", result_type=Receipt)
    async def make(rid: str) -> Receipt:
        calls.append(rid)
        await asyncio.sleep(0)
        return Receipt(rid, 5)

    async def main():
        first = await make("a")
        again = await make("a")
        assert first == again == Receipt("a", 5)
        assert isinstance(again, Receipt)

    asyncio.run(main())
    assert calls == ["a"]


def test_concurrent_async_duplicates_wait_for_the_first(configured):
    calls = []

    @idempotent(key="slow")
    async def slow() -> int:
        calls.append(1)
        await asyncio.sleep(0.2)
        return 42

    async def main():
        return await asyncio.gather(*[slow() for _ in range(5)])

    assert asyncio.run(main()) == [42] * 5
    assert calls == [1]


def test_method(configured):
    class Payments:
        def __init__(self) -> None:
            self.calls = 0

        @idempotent(key="pay:{pid}")
        def pay(self, pid: str) -> str:
            self.calls += 1
            return pid

    p = Payments()
    assert p.pay("x") == p.pay("x") == "x"
    assert p.calls == 1


def _charge(url: str, prefix: str, barrier: str) -> dict:
    import time

    import redis as redis_mod

    from goscope_redis import configure, idempotent

    configure(url=url, key_prefix=prefix)
    raw = redis_mod.Redis.from_url(url)

    @idempotent(key="charge:{pid}", wait=30_000)
    def charge(pid: str) -> dict:
        raw.incr(prefix + "executions")
        time.sleep(0.3)
        return {"pid": pid, "by": raw.client_id()}

    raw.incr(barrier)
    while int(raw.get(barrier)) < 8:
        time.sleep(0.005)
    return charge("p-1")


def test_eight_processes_one_execution_identical_results(redis_server, prefix, raw):
    results = run_workers(_charge, [(redis_server.url, prefix, prefix + "barrier")] * 8)
    assert int(raw.get(prefix + "executions")) == 1
    assert all(r == results[0] for r in results)


def test_a_call_longer_than_its_lease_keeps_the_claim(configured, sync_adapter):
    import time

    seen = []

    @idempotent(key="long", lease=150, wait=0)
    def long_call() -> str:
        time.sleep(0.5)  # more than three leases
        seen.append(sync_adapter.idempotency.begin("long", lease=1_000).status)
        return "done"

    assert long_call() == "done"
    assert seen == ["in_progress"]  # nobody could take the key over meanwhile


def test_async_call_longer_than_its_lease_keeps_the_claim(configured, async_adapter_factory):
    @idempotent(key="along", lease=150, wait=0, fingerprint=False)
    async def long_call() -> str:
        await asyncio.sleep(0.5)
        return "done"

    async def main():
        task = asyncio.ensure_future(long_call())
        await asyncio.sleep(0.35)
        with pytest.raises(IdempotencyInProgressError):
            await long_call()
        return await task

    assert asyncio.run(main()) == "done"
