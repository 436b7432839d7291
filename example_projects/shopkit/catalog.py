"""The catalog: slow to build, so both shops cache it in Redis for every worker."""

from __future__ import annotations

import time
import uuid

import anyio

from example_projects.shopkit.settings import worker_pid

ITEMS = [
    {"sku": "mug", "name": "Espresso mug", "price_cents": 1200},
    {"sku": "tee", "name": "Scope T-shirt", "price_cents": 2400},
    {"sku": "sticker", "name": "Sticker pack", "price_cents": 400},
]
BUILD_S = 0.2  # pretend this is an expensive query


async def build_catalog() -> dict[str, object]:
    """Build the catalog, stamped with who built it and when (so a hit is recognisable)."""
    await anyio.sleep(BUILD_S)
    return {
        "items": ITEMS,
        "computed_by": worker_pid(),
        "computed_at_ms": int(time.time() * 1000),
        "build_id": uuid.uuid4().hex[:12],
    }
