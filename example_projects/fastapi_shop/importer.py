"""The importer loop every worker runs: claim unfinished imports and run them, checkpointed.

An import runs under the lock ``import:<id>`` (taken without waiting, auto-extended while the
worker lives) as ``scope.task(..., checkpoint=True)``. A worker that is killed stops renewing
the lock; once its lease runs out, another loop takes the lock and the task resumes from the
last checkpoint.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from example_projects.shopkit import imports as job
from example_projects.shopkit.settings import (
    IMPORT_LEASE_MS,
    IMPORT_POLL_S,
    RECORD_TTL_MS,
    worker_pid,
)
from goscope_redis import AsyncRedisAdapter, AsyncScope, LockTimeoutError, TaskContext, scope

logger = logging.getLogger("goscope_redis.examples")


async def importer_loop(adapter: AsyncRedisAdapter) -> None:
    """Forever: run the pending imports this worker can claim, then look again shortly."""
    while True:
        try:
            for import_id in await pending(adapter):
                await run_import(adapter, import_id)
        except Exception:
            logger.exception("importer loop in pid %s failed; retrying", worker_pid())
        await anyio.sleep(IMPORT_POLL_S)


async def pending(adapter: AsyncRedisAdapter) -> list[str]:
    """Ids of the imports that are queued or were running (maybe in a dead worker)."""
    keys = await adapter.keys(job.record_key("*"))
    records = await adapter.get_many(keys) if keys else {}
    return [r["id"] for r in records.values() if job.is_pending(r)]


async def run_import(adapter: AsyncRedisAdapter, import_id: str) -> None:
    """Run (or resume) one import if no other worker holds it."""
    try:
        async with scope(persistence=adapter, name=f"import {import_id}") as s:
            await _run_claimed(s, adapter, import_id)
    except LockTimeoutError:
        pass  # another worker is running it


async def _run_claimed(s: AsyncScope, adapter: AsyncRedisAdapter, import_id: str) -> None:
    async with s.lock(job.lock_name(import_id), ttl=IMPORT_LEASE_MS, wait=0):
        record = await adapter.get(job.record_key(import_id))
        if job.is_pending(record):  # not finished while we were claiming it
            task = job.task_id(import_id)
            await s.task(import_rows, adapter, record, id=task, checkpoint=True)


async def import_rows(
    ctx: TaskContext[Any], adapter: AsyncRedisAdapter, record: dict[str, Any]
) -> dict[str, int]:
    """Import the rows from the checkpoint on, saving a checkpoint after each row."""
    data: dict[str, int] = ctx.checkpoint.data or job.first_data()
    key, rows = job.record_key(record["id"]), record["rows"]
    record = job.started(record, worker_pid(), data["next_row"])
    await adapter.set(key, record, ttl=RECORD_TTL_MS)
    for row in range(data["next_row"], rows):
        await anyio.sleep(record["row_ms"] / 1000)  # the work of one row
        data = job.after_row(data, row)
        await ctx.checkpoint.save(data, progress=job.percent(row + 1, rows))
    await adapter.set(key, job.finished(record, data), ttl=RECORD_TTL_MS)
    return data
