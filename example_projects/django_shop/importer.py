"""The importer thread every worker runs: the sync face of the FastAPI shop's importer loop.

It claims unfinished imports with the lock ``import:<id>`` (no waiting; auto-extended while the
process lives) and runs each as a sync ``scope.task(..., checkpoint=True)``. A killed worker
stops renewing; when its lease runs out another worker resumes from the last checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from example_projects.shopkit import imports as job
from example_projects.shopkit.settings import (
    IMPORT_LEASE_MS,
    IMPORT_POLL_S,
    RECORD_TTL_MS,
    worker_pid,
)
from goscope_redis import LockTimeoutError, RedisAdapter, Scope, TaskContext, scope
from goscope_redis_django.adapters import get_adapter

logger = logging.getLogger("goscope_redis.examples")


def start_importer() -> threading.Thread:
    """Start this process's importer thread (a daemon: it dies with the worker)."""
    thread = threading.Thread(target=importer_loop, name="shop-importer", daemon=True)
    thread.start()
    return thread


def importer_loop() -> None:
    """Forever: run the pending imports this worker can claim, then look again shortly."""
    while True:
        try:
            adapter = get_adapter()
            for import_id in pending(adapter):
                run_import(adapter, import_id)
        except Exception:
            logger.exception("importer thread in pid %s failed; retrying", worker_pid())
        time.sleep(IMPORT_POLL_S)


def pending(adapter: RedisAdapter) -> list[str]:
    """Ids of the imports that are queued or were running (maybe in a dead worker)."""
    keys = adapter.keys(job.record_key("*"))
    records = adapter.get_many(keys) if keys else {}
    return [r["id"] for r in records.values() if job.is_pending(r)]


def run_import(adapter: RedisAdapter, import_id: str) -> None:
    """Run (or resume) one import if no other worker holds it."""
    try:
        with scope(persistence=adapter, name=f"import {import_id}") as s:
            _run_claimed(s, adapter, import_id)
    except LockTimeoutError:
        pass  # another worker is running it


def _run_claimed(s: Scope, adapter: RedisAdapter, import_id: str) -> None:
    with s.lock(job.lock_name(import_id), ttl=IMPORT_LEASE_MS, wait=0):
        record = adapter.get(job.record_key(import_id))
        if job.is_pending(record):  # not finished while we were claiming it
            s.task(import_rows, adapter, record, id=job.task_id(import_id), checkpoint=True)


def import_rows(
    ctx: TaskContext[Any], adapter: RedisAdapter, record: dict[str, Any]
) -> dict[str, int]:
    """Import the rows from the checkpoint on, saving a checkpoint after each row."""
    data: dict[str, int] = ctx.checkpoint.data or job.first_data()
    key, rows = job.record_key(record["id"]), record["rows"]
    record = job.started(record, worker_pid(), data["next_row"])
    adapter.set(key, record, ttl=RECORD_TTL_MS)
    for row in range(data["next_row"], rows):
        time.sleep(record["row_ms"] / 1000)  # the work of one row
        data = job.after_row(data, row)
        ctx.checkpoint.save(data, progress=job.percent(row + 1, rows))
    adapter.set(key, job.finished(record, data), ttl=RECORD_TTL_MS)
    return data
