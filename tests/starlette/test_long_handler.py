"""A handler slower than the lease keeps its key: a duplicate gets 409, never a second run."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig

pytestmark = pytest.mark.anyio


async def test_slow_handler_keeps_its_claim_past_the_lease(aadapter):
    runs = []

    async def slow(request: Request) -> JSONResponse:
        runs.append(1)
        await asyncio.sleep(0.5)  # more than three leases
        return JSONResponse({"ok": True}, status_code=201)

    app = Starlette(routes=[Route("/pay", slow, methods=["POST"])])
    app.add_middleware(
        GoScopeMiddleware, adapter=aadapter, idempotency=IdempotencyConfig(lease=150)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = {"Idempotency-Key": "k-1"}
        first = asyncio.ensure_future(client.post("/pay", json={"a": 1}, headers=headers))
        await asyncio.sleep(0.35)
        duplicate = await client.post("/pay", json={"a": 1}, headers=headers)
        assert duplicate.status_code == 409
        assert (await first).status_code == 201
        replay = await client.post("/pay", json={"a": 1}, headers=headers)
        assert replay.headers["idempotent-replayed"] == "true"
    assert runs == [1]
