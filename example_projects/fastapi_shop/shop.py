"""What the routes share in one worker process: the adapter and the fenced stock store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from example_projects.shopkit.stock import FencedStock
from goscope_redis import AsyncRedisAdapter


@dataclass(frozen=True, slots=True)
class Shop:
    """Per-worker resources, built by ``create_app()`` and stored on ``app.state.shop``."""

    adapter: AsyncRedisAdapter
    stock: FencedStock


def get_shop(request: Request) -> Shop:
    """FastAPI dependency: this worker's :class:`Shop`."""
    shop: Shop = request.app.state.shop
    return shop


ShopDep = Annotated[Shop, Depends(get_shop)]
"""Annotate a route parameter with this to receive the worker's :class:`Shop`."""
