"""Section: an import survives the SIGKILL of the worker running it.

The tour waits until the import is a quarter done, kills the worker process that runs it
(``SIGKILL``: no cleanup, no goodbye), and follows the progress: it stalls until the dead
worker's lock lease runs out, then another worker resumes from the last checkpoint. uvicorn's
supervisor meanwhile starts a replacement worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from example_projects.tour import out
from example_projects.tour.client import call
from example_projects.tour.context import Findings, TourContext

ROWS = 40
ROW_MS = 100
KILL_AT = 25.0  # percent
DEADLINE_S = 60.0

Status = dict[str, Any]


async def _status(ctx: TourContext, import_id: str) -> Status | None:
    try:
        reply = await call(ctx.any, "GET", f"/imports/{import_id}")
    except httpx.HTTPError:
        return None  # the connection hit the worker we just killed: ask again
    return reply.body if reply.status == 200 else None


async def _until(
    ctx: TourContext, import_id: str, done: Callable[[Status], bool], shown: list[Any]
) -> Status:
    """Poll until ``done(status)``, printing a progress line whenever something moved."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        status = await _status(ctx, import_id)
        if status is not None:
            _show(status, shown)
            if done(status):
                return status
        await asyncio.sleep(0.1)
    raise TimeoutError(f"import {import_id} did not get there within {DEADLINE_S:.0f} s")


def _show(status: Status, shown: list[Any]) -> None:
    runner, row = status.get("runner_pid"), status.get("next_row", 0)
    step = max(1, status["rows"] // 8)
    last_runner, last_row = shown if shown else (None, -step)
    if runner == last_runner and row - last_row < step and status["state"] != "done":
        return
    shown[:] = [runner, row]
    resumed = status["runs"][-1]["from_row"] if status["runs"] else 0
    extra = f", resumed at row {resumed}" if resumed else ""
    who = f"worker {runner}" if runner else "queued"
    out.note(f"{out.bar(status['progress'])}  row {row:>3}/{status['rows']}  {who}{extra}")


async def _replacement(ctx: TourContext, victim: int, before: list[int]) -> int | None:
    """The worker uvicorn started in place of ``victim`` (waits up to 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        new = [pid for pid in ctx.control.worker_pids() if pid not in before and pid != victim]
        if new:
            return new[0]
        await asyncio.sleep(0.2)
    return None


async def tour_import(ctx: TourContext) -> Findings:
    """Start an import, kill its worker mid-way, watch it resume and finish."""
    found, shown = Findings(), list[Any]()
    started = await call(ctx.any, "POST", "/imports", json={"rows": ROWS, "row_ms": ROW_MS})
    import_id = started.body["id"]
    out.step("POST /imports", started.pid, f"{started.status} import {import_id}: {ROWS} rows")
    running = await _until(ctx, import_id, lambda s: s["progress"] >= KILL_AT, shown)
    victim, before = running["runner_pid"], ctx.control.worker_pids()
    if victim not in before:
        found.claim(
            "the import runs in a worker of this server",
            False,
            f"runner {victim}, workers {before}",
        )
        return found
    ctx.control.kill_worker(victim)
    killed_at = time.monotonic()
    out.note(f"SIGKILL worker {victim} at row {running['next_row']}: its lease must run out first")
    taken = await _until(ctx, import_id, lambda s: s["runner_pid"] != victim, shown)
    out.note(
        f"worker {taken['runner_pid']} took the lock {time.monotonic() - killed_at:.1f} s later "
        f"and resumed from the checkpoint at row {taken['runs'][-1]['from_row']}"
    )
    final = await _until(ctx, import_id, lambda s: s["state"] == "done", shown)
    replacement = await _replacement(ctx, victim, before)
    out.note(f"uvicorn replaced worker {victim} with worker {replacement}")
    _judge(found, final, victim, running["next_row"], replacement)
    return found


def _judge(
    found: Findings, final: Status, victim: int, killed_row: int, replacement: int | None
) -> None:
    runs = final["runs"]
    victim_at = max((i for i, run in enumerate(runs) if run["pid"] == victim), default=-1)
    resumed = runs[victim_at + 1] if 0 <= victim_at < len(runs) - 1 else None
    found.facts = {
        "id": final["id"],
        "killed": victim,
        "killed_at_row": killed_row,
        "runs": runs,
        "resumed": resumed,
        "replacement": replacement,
        "checksum": final.get("checksum"),
        "expected_checksum": final.get("expected_checksum"),
    }
    found.claim(
        "the import resumed from its checkpoint after its worker was killed",
        resumed is not None and resumed["pid"] != victim and resumed["from_row"] >= killed_row > 0,
        f"runs {runs}, killed at row {killed_row}",
    )
    found.claim(
        "it finished with the checksum of an uninterrupted run (no row lost or doubled)",
        final.get("checksum") == final.get("expected_checksum"),
        f"{final.get('checksum')} vs {final.get('expected_checksum')}",
    )
    found.claim("uvicorn restarted the killed worker", replacement is not None, "no new worker pid")
