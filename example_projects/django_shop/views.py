"""Health, payments (``Idempotency-Key`` by the middleware) and the catalog (``CACHES``)."""

from __future__ import annotations

import uuid

import anyio
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from example_projects.django_shop.replies import json_body, reply
from example_projects.shopkit.catalog import build_catalog
from example_projects.shopkit.settings import CATALOG_TTL_MS


@require_GET
async def health(request: HttpRequest) -> JsonResponse:
    """Readiness, and which worker answered."""
    return reply({"status": "ok"})


@require_POST
async def payments(request: HttpRequest) -> JsonResponse:
    """Charge once per ``Idempotency-Key``: ``IdempotencyMiddleware`` answers duplicates
    (409 while this runs, 422 for a changed body, a replay afterwards)."""
    try:
        body = json_body(request)
        amount, delay_ms = body["amount_cents"], body.get("delay_ms", 0)
        if not (isinstance(amount, int) and amount > 0 and isinstance(delay_ms, int)):
            raise ValueError("amount_cents must be a positive int and delay_ms an int")
    except (ValueError, KeyError, TypeError) as exc:
        return reply({"error": f"bad payment: {exc}"}, 422)
    await anyio.sleep(min(max(delay_ms, 0), 10_000) / 1000)
    payment = {
        "payment_id": "pay_" + uuid.uuid4().hex[:12],
        "amount_cents": amount,
        "currency": body.get("currency", "EUR"),
        "status": "captured",
    }
    return reply(payment, 201)


@require_GET
async def catalog(request: HttpRequest) -> JsonResponse:
    """The catalog from Django's cache (our ``RedisCache`` backend, native async)."""
    if request.GET.get("refresh"):
        await cache.adelete("catalog")
    data = await cache.aget("catalog")
    hit = data is not None
    if not hit:
        data = await build_catalog()
        await cache.aset("catalog", data, timeout=CATALOG_TTL_MS / 1000)
    return reply({**data, "cache": "hit" if hit else "miss"})
