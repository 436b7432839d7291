"""Reservations under the lock backend, with the fencing token guarding the stock write.

``@locked`` (from ``goscope_redis_django.decorators``) holds ``orders:<id>`` around the view
and answers 409 when it stays busy; ``?pause_ms=`` takes the same lock through
``goscope_redis_django.locks.lock`` with a 0.5 s lease and no auto-extension, stalls, and has
its late write refused by the fenced store.
"""

from __future__ import annotations

import time

import anyio
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from example_projects.django_shop.replies import int_param, reply
from example_projects.shopkit.settings import KEY_PREFIX
from example_projects.shopkit.stock import FencedStock, StockWrite
from goscope_redis_django.adapters import get_async_adapter
from goscope_redis_django.decorators import locked
from goscope_redis_django.locks import lock

PAUSED_LEASE_S = 0.5


def _stock() -> FencedStock:
    return FencedStock(get_async_adapter().client, KEY_PREFIX)


@require_POST
async def reserve(request: HttpRequest, order_id: str) -> JsonResponse:
    """Reserve ``?quantity=`` units; ``?hold_ms=`` holds the lock, ``?pause_ms=`` stalls."""
    try:
        quantity = int_param(request, "quantity", 1, 1, 100)
        hold_ms = int_param(request, "hold_ms", 0, 0, 10_000)
        pause_ms = int_param(request, "pause_ms", 0, 0, 10_000)
    except ValueError as exc:
        return reply({"error": str(exc)}, 422)
    request.shop_started = time.monotonic()  # type: ignore[attr-defined]
    if pause_ms:
        return await _reserve_after_pause(request, order_id, quantity, pause_ms)
    return await _reserve_locked(request, order_id, quantity, hold_ms)  # type: ignore[no-any-return]


@locked("orders:{order_id}", timeout=10, blocking_timeout=5)
async def _reserve_locked(
    request: HttpRequest, order_id: str, quantity: int, hold_ms: int
) -> JsonResponse:
    token: int = request.goscope_lock.fencing_token  # type: ignore[attr-defined]
    await anyio.sleep(hold_ms / 1000)
    return _written(
        request, order_id, quantity, token, await _stock().reserve(order_id, quantity, token)
    )


async def _reserve_after_pause(
    request: HttpRequest, order_id: str, quantity: int, pause_ms: int
) -> JsonResponse:
    name = f"orders:{order_id}"
    async with lock(name, timeout=PAUSED_LEASE_S, blocking_timeout=5, auto_extend=False) as handle:
        await anyio.sleep(pause_ms / 1000)  # the lease runs out meanwhile
        write = await _stock().reserve(order_id, quantity, handle.fencing_token)
    return _written(request, order_id, quantity, handle.fencing_token, write)


def _written(
    request: HttpRequest, order_id: str, quantity: int, token: int, write: StockWrite
) -> JsonResponse:
    started: float = request.shop_started  # type: ignore[attr-defined]
    body = {
        "outcome": write.outcome,
        "order_id": order_id,
        "quantity": quantity,
        "fencing_token": token,
        "last_token": write.last_token,
        "stock_left": write.left,
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    return reply(body, 200 if write.outcome == "ok" else 409)


@require_GET
async def order_stock(request: HttpRequest, order_id: str) -> JsonResponse:
    """The order line's stock and the last fencing token the store accepted."""
    return reply({"order_id": order_id, **await _stock().level(order_id)})
