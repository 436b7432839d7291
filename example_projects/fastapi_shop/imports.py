"""``POST /imports`` queues an import; ``GET /imports/{id}`` reports its progress.

The import itself runs in whichever worker's importer loop claims it first (see
:mod:`example_projects.fastapi_shop.importer`), so it survives the death of that worker.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from example_projects.fastapi_shop.shop import ShopDep
from example_projects.shopkit import imports as job
from example_projects.shopkit.settings import RECORD_TTL_MS, worker_pid

router = APIRouter()


@router.post("/imports", status_code=202)
async def start_import(
    shop: ShopDep, body: Annotated[dict[str, Any] | None, Body()] = None
) -> JSONResponse:
    """Queue an import of ``rows`` rows taking ``row_ms`` each (defaults: 40 x 100 ms)."""
    try:
        request = job.ImportRequest.parse(body or {})
    except ValueError as exc:
        return JSONResponse({"error": str(exc), "pid": worker_pid()}, 422)
    record = job.new_record(request)
    await shop.adapter.add(job.record_key(record["id"]), record, ttl=RECORD_TTL_MS)
    location = f"/imports/{record['id']}"
    reply = {"id": record["id"], "status_url": location, "pid": worker_pid()}
    return JSONResponse(reply, 202, headers={"Location": location})


@router.get("/imports/{import_id}")
async def import_status(import_id: str, shop: ShopDep) -> JSONResponse:
    """Progress from the latest checkpoint, and which workers ran the import from which row."""
    record = await shop.adapter.get(job.record_key(import_id))
    if record is None:
        return JSONResponse({"error": f"no import {import_id!r}", "pid": worker_pid()}, 404)
    latest = await shop.adapter.load_latest_checkpoint(job.task_id(import_id))
    return JSONResponse({**job.status(record, latest), "pid": worker_pid()})
