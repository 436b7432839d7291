"""@with_lock on sync and async functions and methods, and across processes."""

from __future__ import annotations

import asyncio

import pytest

from goscope_redis import LockLostError, LockTimeoutError, with_lock

from ..procs import run_workers


def test_sync_function_holds_the_lock(configured, raw):
    @with_lock("orders:{order_id}", ttl=5_000, wait=0)
    def reserve(order_id: int) -> bool:
        return bool(raw.exists(f"{configured}lock:{{orders:{order_id}}}"))

    assert reserve(42) is True
    assert not raw.exists(f"{configured}lock:{{orders:42}}")


def test_wait_expiry_raises_lock_timeout(configured, sync_adapter):
    sync_adapter.acquire("orders:1", 5_000)

    @with_lock("orders:{oid}", ttl=1_000, wait=50)
    def reserve(oid: int) -> None: ...

    with pytest.raises(LockTimeoutError):
        reserve(1)


def test_handle_is_passed_when_asked(configured):
    @with_lock("job", ttl=5_000, handle_arg="lock")
    def job(lock=None) -> int:
        return lock.fencing_token

    first, second = job(), job()
    assert second > first >= 1


def test_async_function_and_method(configured, raw):
    class Service:
        def __init__(self) -> None:
            self.name = "svc"

        @with_lock("svc:{self.name}", ttl=5_000)
        async def run(self) -> bool:
            return bool(await asyncio.sleep(0, result=raw.exists(f"{configured}lock:{{svc:svc}}")))

    assert asyncio.run(Service().run()) is True
    assert not raw.exists(f"{configured}lock:{{svc:svc}}")


def test_async_lost_lease_cancels_and_raises(configured, sync_adapter):
    progressed = []

    @with_lock("fragile", ttl=150)
    async def long_job() -> None:
        sync_adapter.force_release("fragile")
        for _ in range(40):
            await asyncio.sleep(0.05)
            progressed.append(1)

    with pytest.raises(LockLostError):
        asyncio.run(long_job())
    assert len(progressed) < 20  # cancelled long before the end


def test_sync_lost_lease_raises_at_exit(configured, sync_adapter):
    import time

    @with_lock("fragile", ttl=150)
    def job() -> None:
        sync_adapter.force_release("fragile")
        time.sleep(0.4)

    with pytest.raises(LockLostError):
        job()


def _increments(url: str, prefix: str, n: int) -> int:
    import redis as redis_mod

    from goscope_redis import configure, with_lock

    configure(url=url, key_prefix=prefix)
    raw = redis_mod.Redis.from_url(url)

    @with_lock("counter", ttl=5_000, wait=60_000)
    def bump() -> None:
        raw.set(prefix + "n", int(raw.get(prefix + "n") or 0) + 1)

    for _ in range(n):
        bump()
    return n


def test_four_processes_times_200_increments_are_exact(redis_server, prefix, raw):
    run_workers(_increments, [(redis_server.url, prefix, 200)] * 4)
    assert int(raw.get(prefix + "n")) == 800


def test_fork_safety_configure_then_fork(configured, raw):
    import os

    @with_lock("forked", ttl=5_000)
    def touch(tag: str) -> None:
        raw.rpush(configured + "log", tag)

    touch("parent")  # opens the parent's pool
    pid = os.fork()
    if pid == 0:  # child: must build its own connections
        try:
            touch("child")
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    touch("parent-again")
    assert [x.decode() for x in raw.lrange(configured + "log", 0, -1)] == [
        "parent",
        "child",
        "parent-again",
    ]


def test_handle_arg_without_default_works_with_a_template(configured):
    @with_lock("job:{job_id}", ttl=5_000, handle_arg="lock")
    def job(job_id: int, lock) -> tuple:
        return job_id, lock.key

    assert job(7) == (7, "job:7")
