"""``GET /quote``: a flaky upstream behind a circuit breaker that all workers share.

Three failures in any workers open the breaker (``?fail=1`` makes the upstream fail). While it
is open, every worker refuses at once with 503 and ``Retry-After``, without calling upstream.
After ``reset_timeout`` one probe is let through (across all workers) to test the water.
"""

from __future__ import annotations

import math

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from example_projects.fastapi_shop.shop import ShopDep
from example_projects.shopkit.settings import (
    BREAKER,
    BREAKER_FAILURES,
    BREAKER_RESET_MS,
    worker_pid,
)
from example_projects.shopkit.upstream import UpstreamError, fetch_quote
from goscope_redis import AsyncRedisAdapter, CircuitOpenError, circuit

router = APIRouter()


@circuit(BREAKER, failure_threshold=BREAKER_FAILURES, reset_timeout=BREAKER_RESET_MS)
async def guarded_quote(sku: str, fail: bool) -> dict[str, object]:
    """The upstream call, counted by the shared breaker."""
    return await fetch_quote(sku, fail)


@router.get("/quote")
async def quote(shop: ShopDep, sku: str = "mug", fail: bool = False) -> JSONResponse:
    """A price: 200, or 502 when upstream failed, or 503 when the breaker refused."""
    headers: dict[str, str] = {}
    try:
        body: dict[str, object] = {"outcome": "ok", "quote": await guarded_quote(sku, fail)}
        status = 200
    except UpstreamError as exc:
        body, status = {"outcome": "upstream-failed", "error": str(exc)}, 502
    except CircuitOpenError as exc:
        body, status = {"outcome": "refused", "retry_after_ms": exc.retry_after}, 503
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after / 1000)))
    body.update(breaker=await breaker_state(shop.adapter), pid=worker_pid())
    return JSONResponse(body, status, headers=headers)


async def breaker_state(adapter: AsyncRedisAdapter) -> dict[str, object]:
    """The shared breaker's state as stored in Redis."""
    state = await adapter.get_state(BREAKER)
    if state is None:
        return {"state": "closed", "failure_count": 0}
    return {"state": state.state, "failure_count": state.failure_count}
