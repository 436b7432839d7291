"""``POST /orders/{order_id}/reserve``: a lock per order line, and a fenced stock write.

``@with_lock`` serialises reservations of one order line across every worker; the lock's
fencing token goes with the stock write, and the store refuses a token older than the last one
it accepted. ``?pause_ms=`` simulates a holder that stalls past its lease (500 ms, no
auto-extension): another request takes the lock meanwhile, and the stalled write is refused.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from example_projects.fastapi_shop.shop import ShopDep
from example_projects.shopkit.settings import worker_pid
from example_projects.shopkit.stock import FencedStock, StockWrite
from goscope_redis import AsyncLockHandle, LockTimeoutError, with_lock

router = APIRouter()
PAUSED_LEASE_MS = 500


@with_lock("orders:{order_id}", ttl=10_000, wait=5_000, handle_arg="lock")
async def reserve_locked(
    order_id: str,
    quantity: int,
    hold_ms: int,
    stock: FencedStock,
    lock: AsyncLockHandle | None = None,
) -> tuple[StockWrite, int]:
    """Hold the order's lock for ``hold_ms``, then write with its fencing token."""
    assert lock is not None  # passed by @with_lock (handle_arg)
    await anyio.sleep(hold_ms / 1000)
    return await stock.reserve(order_id, quantity, lock.fencing_token), lock.fencing_token


@with_lock(
    "orders:{order_id}", ttl=PAUSED_LEASE_MS, wait=5_000, auto_extend=False, handle_arg="lock"
)
async def reserve_after_pause(
    order_id: str,
    quantity: int,
    pause_ms: int,
    stock: FencedStock,
    lock: AsyncLockHandle | None = None,
) -> tuple[StockWrite, int]:
    """Stall for ``pause_ms`` while the short lease runs out, then try the write anyway."""
    assert lock is not None
    await anyio.sleep(pause_ms / 1000)
    return await stock.reserve(order_id, quantity, lock.fencing_token), lock.fencing_token


@router.post("/orders/{order_id}/reserve")
async def reserve(
    order_id: str,
    shop: ShopDep,
    quantity: Annotated[int, Query(ge=1, le=100)] = 1,
    hold_ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
    pause_ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> JSONResponse:
    """Reserve ``quantity`` units; 409 if the lock stays busy, the write is fenced or sold out."""
    started = time.monotonic()
    try:
        if pause_ms:
            write, token = await reserve_after_pause(order_id, quantity, pause_ms, shop.stock)
        else:
            write, token = await reserve_locked(order_id, quantity, hold_ms, shop.stock)
    except LockTimeoutError:
        return _reply(409, {"outcome": "lock-busy", "order_id": order_id}, started)
    body = {
        "outcome": write.outcome,
        "order_id": order_id,
        "quantity": quantity,
        "fencing_token": token,
        "last_token": write.last_token,
        "stock_left": write.left,
    }
    return _reply(200 if write.outcome == "ok" else 409, body, started)


@router.get("/orders/{order_id}")
async def order_stock(order_id: str, shop: ShopDep) -> dict[str, Any]:
    """The order line's stock and the last fencing token the store accepted."""
    return {"order_id": order_id, **await shop.stock.level(order_id), "pid": worker_pid()}


def _reply(status: int, body: dict[str, Any], started: float) -> JSONResponse:
    elapsed_ms = round((time.monotonic() - started) * 1000)
    return JSONResponse({**body, "elapsed_ms": elapsed_ms, "pid": worker_pid()}, status)
