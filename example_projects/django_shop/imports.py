"""``POST /imports`` queues an import; ``GET /imports/<id>`` reports its progress.

The import runs in whichever worker's importer thread claims it (see ``importer.py``).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from example_projects.django_shop.replies import json_body, reply
from example_projects.shopkit import imports as job
from example_projects.shopkit.settings import RECORD_TTL_MS
from goscope_redis_django.adapters import get_async_adapter


@require_POST
async def start_import(request: HttpRequest) -> JsonResponse:
    """Queue an import of ``rows`` rows taking ``row_ms`` each (defaults: 40 x 100 ms)."""
    try:
        spec = job.ImportRequest.parse(json_body(request))
    except ValueError as exc:
        return reply({"error": str(exc)}, 422)
    record = job.new_record(spec)
    await get_async_adapter().add(job.record_key(record["id"]), record, ttl=RECORD_TTL_MS)
    location = f"/imports/{record['id']}"
    return reply({"id": record["id"], "status_url": location}, 202, Location=location)


@require_GET
async def import_status(request: HttpRequest, import_id: str) -> JsonResponse:
    """Progress from the latest checkpoint, and which workers ran the import from which row."""
    adapter = get_async_adapter()
    record = await adapter.get(job.record_key(import_id))
    if record is None:
        return reply({"error": f"no import {import_id!r}"}, 404)
    latest = await adapter.load_latest_checkpoint(job.task_id(import_id))
    return reply(job.status(record, latest))
