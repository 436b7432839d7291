"""``POST /payments``: charged once per ``Idempotency-Key``, whatever the worker.

The handler itself knows nothing about idempotency: ``GoScopeMiddleware`` with an
``IdempotencyConfig`` claims the key in Redis before the handler runs, answers a concurrent
duplicate with 409, a changed body with 422, and replays the stored response afterwards with
``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import uuid

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, Field

from example_projects.shopkit.settings import worker_pid

router = APIRouter()


class PaymentIn(BaseModel):
    """A payment request; ``delay_ms`` makes the charge slow enough to race it."""

    amount_cents: int = Field(gt=0)
    currency: str = "EUR"
    delay_ms: int = Field(0, ge=0, le=10_000)


@router.post("/payments", status_code=201)
async def create_payment(payment: PaymentIn) -> dict[str, object]:
    """Charge the card (simulated). The body's ``pid`` is the worker that charged it."""
    await anyio.sleep(payment.delay_ms / 1000)
    return {
        "payment_id": "pay_" + uuid.uuid4().hex[:12],
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "status": "captured",
        "pid": worker_pid(),
    }
