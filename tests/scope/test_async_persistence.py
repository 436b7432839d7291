"""The async scope's persistence helpers on a real Redis: locks, cache, circuit breakers."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from goscope_redis import CircuitOpenError, Hooks, LockLostError, scope
from goscope_redis.errors import GoScopeRedisError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


def _lock_key(prefix: str, key: str) -> str:
    return f"{prefix}lock:{{{key}}}"


async def test_a_lock_is_released_when_the_scope_fails(aadapter, prefix, raw):
    with pytest.raises(ValueError):
        async with scope(persistence=aadapter) as s, s.lock("orders:1", ttl=10_000) as handle:
            assert raw.exists(_lock_key(prefix, "orders:1"))
            assert handle.fencing_token >= 1
            raise ValueError("failed while holding the lock")
    assert not raw.exists(_lock_key(prefix, "orders:1"))


async def test_a_lock_held_by_a_cancelled_task_is_released(aadapter, prefix, raw):
    async def hold() -> None:
        async with s.lock("orders:2", ttl=10_000):
            await anyio.sleep(10)

    async def fail_soon() -> None:
        await anyio.sleep(0.05)
        raise KeyError("sibling failed")

    before = asyncio.all_tasks()
    with pytest.raises(KeyError):
        async with scope(persistence=aadapter) as s:
            s.spawn(hold)
            s.spawn(fail_soon)
    assert not raw.exists(_lock_key(prefix, "orders:2"))
    await anyio.sleep(0.01)
    assert asyncio.all_tasks() - before == set()  # no task and no lease renewer outlives the scope


async def test_a_timed_out_scope_releases_its_locks(aadapter, prefix, raw):
    with pytest.raises(TimeoutError):
        async with scope(persistence=aadapter, timeout=100) as s, s.lock("orders:3"):
            await anyio.sleep(10)
    assert not raw.exists(_lock_key(prefix, "orders:3"))


async def test_a_lock_still_held_at_exit_is_released_by_the_scope(aadapter, prefix, raw):
    async with scope(persistence=aadapter) as s:
        handle = await s.lock("orders:4", ttl=10_000).__aenter__()  # never exited by the caller
        assert raw.exists(_lock_key(prefix, "orders:4"))
    assert not raw.exists(_lock_key(prefix, "orders:4"))
    assert not await handle.is_valid()


async def test_a_lost_lease_cancels_the_scope_with_lock_lost_error(aadapter, prefix, raw):
    lost: list[tuple[str, int]] = []
    reached_end = False
    started = anyio.current_time()
    with pytest.raises(LockLostError) as info:
        async with scope(
            persistence=aadapter, hooks=Hooks(on_lock_lost=lambda k, t: lost.append((k, t)))
        ) as s:
            sibling = s.spawn(anyio.sleep, 10)
            async with s.lock("orders:5", ttl=300) as handle:
                raw.delete(_lock_key(prefix, "orders:5"))  # another client takes it away
                await anyio.sleep(10)
                reached_end = True
    assert anyio.current_time() - started < 5
    assert not reached_end and sibling.cancelled()
    assert info.value.key == "orders:5" and info.value.fencing_token == handle.fencing_token
    assert lost == [("orders:5", handle.fencing_token)]


async def test_a_lost_lease_in_a_child_scope_propagates(aadapter, prefix, raw):
    with pytest.raises(LockLostError):
        async with (
            scope(persistence=aadapter, name="parent") as s,
            s.scope("child") as child,
            child.lock("orders:6", ttl=300),
        ):
            raw.delete(_lock_key(prefix, "orders:6"))
            await anyio.sleep(10)


async def test_lock_acquired_hook_gets_key_and_fencing_token(aadapter):
    acquired: list[tuple[str, int]] = []
    hooks = Hooks(on_lock_acquired=lambda key, token: acquired.append((key, token)))
    async with scope(persistence=aadapter, hooks=hooks) as s:
        async with s.lock("a") as first:
            pass
        async with s.lock("a") as second:
            pass
    assert acquired == [("a", first.fencing_token), ("a", second.fencing_token)]
    assert second.fencing_token > first.fencing_token


async def test_cache_is_the_adapters_cache(aadapter, prefix, raw):
    async with scope(persistence=aadapter) as s:
        assert s.persistence is aadapter and s.cache is aadapter
        await s.cache.set("k", {"v": 1}, ttl=60_000)
        assert await s.cache.get("k") == {"v": 1}
    assert raw.exists(f"{prefix}cache:{{k}}")


async def test_circuit_breaker_is_shared_and_reports_state_changes(aadapter):
    changes: list[tuple[str, str]] = []

    async def failing() -> None:
        raise ConnectionError("payments down")

    hooks = Hooks(on_circuit_change=lambda name, state: changes.append((name, state)))
    async with scope(persistence=aadapter, hooks=hooks) as s:
        breaker = s.circuit_breaker("payments", failure_threshold=2, reset_timeout=60_000)
        for _ in range(2):
            with pytest.raises(ConnectionError):
                await breaker.call(failing)
        other = s.circuit_breaker("payments")  # same name: the same shared state
        with pytest.raises(CircuitOpenError):
            await other.call(failing)
    assert changes == [("payments", "open")]


async def test_a_scope_without_persistence_has_no_locks_or_cache():
    async with scope(name="bare") as s:
        assert s.persistence is None
        with pytest.raises(GoScopeRedisError, match="bare"):
            s.lock("k")
        with pytest.raises(GoScopeRedisError):
            _ = s.cache


async def test_the_wrong_with_statement_explains_itself(aadapter, sadapter):
    with pytest.raises(TypeError, match="async with"), scope(persistence=aadapter):
        pass
    with pytest.raises(TypeError, match="use `with`"):
        async with scope(persistence=sadapter):
            pass
