"""``await s.task(...)``: idempotency, checkpoints, retries and timeouts on a real Redis."""

from __future__ import annotations

import anyio
import pytest

from goscope_redis import (
    Hooks,
    Idempotency,
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
    Retry,
    TaskContext,
    scope,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_concurrent_duplicates_run_once_and_share_the_result(aadapter, prefix, raw):
    runs = 0

    async def charge(amount: int) -> dict[str, int]:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.1)
        return {"charged": amount}

    replays: list[str] = []
    async with scope(persistence=aadapter, hooks=Hooks(on_idempotent_replay=replays.append)) as s:
        once = Idempotency(key="charge:9", ttl=60_000)
        handles = [s.spawn(lambda: s.task(charge, 5, idempotency=once)) for _ in range(5)]
        results = [await h for h in handles]
    assert runs == 1
    assert results == [{"charged": 5}] * 5
    assert replays == ["charge:9"] * 4
    assert 0 < raw.pttl(f"{prefix}idempotency:{{charge:9}}") <= 60_000


async def test_a_replay_does_not_slide_the_ttl(aadapter, prefix, raw):
    async def work() -> str:
        return "done"

    key = f"{prefix}idempotency:{{slide}}"
    async with scope(persistence=aadapter) as s:
        await s.task(work, idempotency=Idempotency(key="slide", ttl=2_000))
        await anyio.sleep(0.3)
        before = raw.pttl(key)
        assert await s.task(work, idempotency=Idempotency(key="slide", ttl=2_000)) == "done"
        assert raw.pttl(key) <= before <= 1_750


async def test_wait_zero_raises_in_progress_for_a_running_duplicate(aadapter):
    started = anyio.Event()

    async def slow() -> int:
        started.set()
        await anyio.sleep(0.3)
        return 1

    async with scope(persistence=aadapter) as s:
        first = s.spawn(lambda: s.task(slow, idempotency=Idempotency(key="busy")))
        await started.wait()
        with pytest.raises(IdempotencyInProgressError):
            await s.task(slow, idempotency=Idempotency(key="busy", wait=0))
        assert await first == 1


async def test_a_failure_is_not_stored_so_the_next_call_runs_again(aadapter, prefix, raw):
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("first call fails")
        return "ok"

    async with scope(persistence=aadapter) as s:
        with pytest.raises(ConnectionError):
            await s.task(flaky, idempotency=Idempotency(key="flaky"))
        assert not raw.exists(f"{prefix}idempotency:{{flaky}}")
        assert await s.task(flaky, idempotency=Idempotency(key="flaky")) == "ok"
    assert calls == 2


async def test_a_stored_failure_replays_as_an_error_not_a_result(aadapter):
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("card declined")

    options = Idempotency(key="declined", store_errors=True)
    async with scope(persistence=aadapter) as s:
        with pytest.raises(ValueError):
            await s.task(broken, idempotency=options)
        with pytest.raises(IdempotencyStoredError, match="card declined") as info:
            await s.task(broken, idempotency=options)
    assert calls == 1 and info.value.error_type == "builtins.ValueError"


async def test_a_different_fingerprint_is_a_mismatch(aadapter):
    async def work() -> int:
        return 1

    async with scope(persistence=aadapter) as s:
        await s.task(work, idempotency=Idempotency(key="fp", fingerprint="a"))
        with pytest.raises(IdempotencyMismatchError):
            await s.task(work, idempotency=Idempotency(key="fp", fingerprint="b"))


async def test_retry_runs_again_after_a_backoff_and_reports_the_last_error(aadapter):
    attempts: list[int] = []

    async def fails_twice() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise ConnectionError("transient")
        return "third time"

    async def always_fails() -> None:
        raise ConnectionError("down")

    async with scope(persistence=aadapter) as s:
        assert await s.task(fails_twice, retry=Retry(attempts=3, backoff=10)) == "third time"
        with pytest.raises(ConnectionError):
            await s.task(always_fails, retry=Retry(attempts=2, backoff=1))
        with pytest.raises(KeyError):  # not in retry_on: no second attempt
            await s.task(_raise_key_error, retry=Retry(attempts=5, retry_on=(ConnectionError,)))
    assert attempts == [1, 2, 3]


async def _raise_key_error() -> None:
    raise KeyError("no retry")


async def test_a_task_timeout_raises_timeout_error_and_leaves_the_scope_running(aadapter):
    async with scope(persistence=aadapter) as s:
        with pytest.raises(TimeoutError, match="slow-task"):
            await s.task(anyio.sleep, 10, id="slow-task", timeout=50)
        assert not s.cancelled
        assert await s.task(_echo, 1, timeout=5_000) == 1


async def _echo(value: int) -> int:
    return value


async def test_a_timeout_abandons_the_idempotency_claim(aadapter, prefix, raw):
    async with scope(persistence=aadapter) as s:
        with pytest.raises(TimeoutError):
            await s.task(anyio.sleep, 10, idempotency=Idempotency(key="t"), timeout=50)
    assert not raw.exists(f"{prefix}idempotency:{{t}}")


async def _import_rows(ctx: TaskContext, rows: int, fail_at: int | None) -> list[int]:
    done: list[int] = ctx.checkpoint.data or []
    for row in range(len(done), rows):
        if row == fail_at:
            raise RuntimeError(f"crashed at row {row}")
        done.append(row)
        await ctx.checkpoint.save(done, progress=100 * len(done) / rows)
    return done


async def test_checkpoints_resume_after_a_failure_and_are_deleted_on_success(aadapter):
    async with scope(persistence=aadapter) as s:
        with pytest.raises(RuntimeError, match="row 3"):
            await s.task(_import_rows, 5, 3, id="import:1", checkpoint=True)
        kept = await aadapter.load_latest_checkpoint("import:1")
        assert kept is not None and kept.data == [0, 1, 2] and kept.progress == 60.0

        seen: list[tuple[object, float, bool]] = []

        async def resumed(ctx: TaskContext, rows: int) -> list[int]:
            seen.append(
                (list(ctx.checkpoint.data), ctx.checkpoint.progress, ctx.checkpoint.resumed)
            )
            return await _import_rows(ctx, rows, None)

        assert await s.resume_task("import:1", resumed, 5) == [0, 1, 2, 3, 4]
    assert seen == [([0, 1, 2], 60.0, True)]
    assert await aadapter.list_checkpoints("import:1") == []


async def test_a_retry_continues_from_the_last_checkpoint(aadapter):
    starts: list[tuple[int, object]] = []

    async def crashes_once(ctx: TaskContext) -> list[int]:
        starts.append((ctx.attempt, list(ctx.checkpoint.data or [])))
        return await _import_rows(ctx, 4, 2 if ctx.attempt == 1 else None)

    async with scope(persistence=aadapter) as s:
        result = await s.task(crashes_once, id="retry-cp", checkpoint=True, retry=Retry(backoff=1))
    assert result == [0, 1, 2, 3]
    assert starts == [(1, []), (2, [0, 1])]


async def test_checkpoint_needs_a_stable_id_and_resume_needs_a_checkpoint(aadapter):
    async with scope(persistence=aadapter) as s:
        with pytest.raises(ValueError, match="stable id"):
            await s.task(_import_rows, 1, None, checkpoint=True)
        with pytest.raises(LookupError, match="never-ran"):
            await s.resume_task("never-ran", _import_rows, 1, None)
