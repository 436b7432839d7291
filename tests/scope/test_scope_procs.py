"""Scope claims that cross processes: one execution per idempotency key, resume after SIGKILL."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import time
from typing import Any

import redis

from goscope_redis import (
    AsyncRedisAdapter,
    Idempotency,
    RedisAdapter,
    TaskContext,
    scope,
)

from ..procs import run_workers

REPORT = Idempotency(key="report:2026-11", ttl=60_000, lease=30_000)


def _build_report(url: str, prefix: str) -> dict[str, Any]:
    raw = redis.Redis.from_url(url)
    raw.incr(f"{prefix}executions")
    deadline = time.monotonic() + 20
    # Stay in progress until every process has asked, so the duplicates really overlap.
    while int(raw.get(f"{prefix}arrived") or 0) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # and until they are polling for the result
    raw.close()
    return {"runner": os.getpid(), "rows": 1234}


async def _abuild_report(url: str, prefix: str) -> dict[str, Any]:
    return await asyncio.to_thread(_build_report, url, prefix)


def _idempotent_worker(url: str, prefix: str, mode: str) -> dict[str, Any]:
    raw = redis.Redis.from_url(url)
    raw.incr(f"{prefix}arrived")
    raw.close()
    if mode == "sync":
        with RedisAdapter.from_url(url, prefix) as adapter, scope(persistence=adapter) as s:
            result: dict[str, Any] = s.task(_build_report, url, prefix, idempotency=REPORT)
            return result

    async def main() -> dict[str, Any]:
        async with (
            AsyncRedisAdapter.from_url(url, prefix) as adapter,
            scope(persistence=adapter) as s,
        ):
            result: dict[str, Any] = await s.task(_abuild_report, url, prefix, idempotency=REPORT)
            return result

    return asyncio.run(main())


def test_idempotent_task_runs_once_across_4_processes(redis_server, prefix, raw):
    modes = [(redis_server.url, prefix, m) for m in ("async", "sync", "async", "sync")]
    results = run_workers(_idempotent_worker, modes)
    assert int(raw.get(f"{prefix}executions")) == 1
    assert all(r == results[0] for r in results) and results[0]["rows"] == 1234


STEPS = 10


async def _import(ctx: TaskContext, url: str, hang_after: int | None) -> dict[str, Any]:
    start = {"data": ctx.checkpoint.data, "progress": ctx.checkpoint.progress}
    for step in range((ctx.checkpoint.data or 0) + 1, STEPS + 1):
        await asyncio.sleep(0.005)  # the "work" of one step
        await ctx.checkpoint.save(step, progress=100 * step / STEPS)
        if step == hang_after:
            await asyncio.sleep(3600)  # killed here
    return {"start": start, "done": ctx.checkpoint.data}


def _checkpoint_worker(url: str, prefix: str, hang_after: int | None) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with (
            AsyncRedisAdapter.from_url(url, prefix) as adapter,
            scope(persistence=adapter, name="importer") as s,
        ):
            if hang_after is None:
                result: dict[str, Any] = await s.resume_task("import:big", _import, url, None)
            else:
                result = await s.task(_import, url, hang_after, id="import:big", checkpoint=True)
            return result

    return asyncio.run(main())


def test_checkpointed_task_killed_with_sigkill_resumes_in_a_new_process(
    redis_server, prefix, sadapter
):
    proc = mp.get_context("spawn").Process(
        target=_checkpoint_worker, args=(redis_server.url, prefix, 3), daemon=True
    )
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            latest = sadapter.load_latest_checkpoint("import:big")
            if latest is not None and latest.progress >= 30:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the worker never saved its third checkpoint")
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        assert proc.exitcode == -signal.SIGKILL
    finally:
        if proc.is_alive():
            proc.kill()
    kept = sadapter.load_latest_checkpoint("import:big")
    assert kept is not None and kept.data == 3 and kept.progress == 30.0

    [resumed] = run_workers(_checkpoint_worker, [(redis_server.url, prefix, None)])
    assert resumed == {"start": {"data": 3, "progress": 30.0}, "done": STEPS}
    assert sadapter.list_checkpoints("import:big") == []
