"""Our own suite uses the user-facing pytest plugin, exactly as an application's tests would.

``pytest_plugins`` names the plugin module, which the ``pytest11`` entry point registers under
the same name, so this works whether or not goscope-redis is pip-installed.
"""

from __future__ import annotations

import pytest

from goscope_redis import (
    AsyncRedisAdapter,
    Checkpoint,
    CircuitOpenError,
    IdempotencyInProgressError,
    RedisAdapter,
    idempotent,
)

pytest_plugins = ["goscope_redis.testing"]


def test_lock_handle_fences_and_releases(goscope_adapter: RedisAdapter) -> None:
    first = goscope_adapter.acquire("orders:42", 10_000)
    assert first is not None and first.release()
    second = goscope_adapter.acquire("orders:42", 10_000)
    assert second is not None and second.fencing_token > first.fencing_token


def test_shared_breaker_refuses_while_open(goscope_adapter: RedisAdapter) -> None:
    breaker = goscope_adapter.circuit_breaker("payments", failure_threshold=1)
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)
    with pytest.raises(CircuitOpenError) as refused:
        breaker.call(lambda: "never runs")
    assert 0 < refused.value.retry_after <= 30_000


def test_idempotent_call_refuses_a_concurrent_duplicate(goscope_adapter: RedisAdapter) -> None:
    @idempotent(key="charge:{payment_id}", wait=0, adapter=goscope_adapter)
    def charge(payment_id: str) -> str:
        return "charged"

    claim = goscope_adapter.idempotency.begin("charge:p1")  # another worker is on it
    with pytest.raises(IdempotencyInProgressError):
        charge("p1")
    goscope_adapter.idempotency.abandon(claim)
    assert charge("p1") == "charged"


def test_checkpoints_resume_from_the_latest(goscope_adapter: RedisAdapter) -> None:
    for seq in range(3):
        goscope_adapter.save_checkpoint(Checkpoint("import:1", seq, {"row": seq * 10}))
    latest = goscope_adapter.load_latest_checkpoint("import:1")
    assert latest is not None and latest.data == {"row": 20}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_async_adapter_shares_the_lock_with_the_sync_one(
    goscope_async_adapter: AsyncRedisAdapter, goscope_redis_url: str, goscope_key_prefix: str
) -> None:
    handle = await goscope_async_adapter.acquire("orders:7", 10_000)
    assert handle is not None
    with RedisAdapter.from_url(goscope_redis_url, goscope_key_prefix) as sync_face:
        assert sync_face.acquire("orders:7", 10_000) is None


def test_fake_adapter_runs_the_same_lock_code(goscope_fake_adapter: RedisAdapter) -> None:
    handle = goscope_fake_adapter.acquire("orders:42", 10_000)
    assert handle is not None and goscope_fake_adapter.acquire("orders:42", 10_000) is None
