"""The FastAPI shop. Run it the easy way with ``python example_projects/run.py``, or by hand:

    REDIS_URL=redis://localhost:6379/0 uvicorn example_projects.fastapi_shop.app:app --workers 2

Each worker process builds its own ``AsyncRedisAdapter`` (key prefix ``$SHOP_PREFIX``, default
``shop:``); they meet only in Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from example_projects.fastapi_shop import catalog, imports, orders, payments, quote
from example_projects.fastapi_shop.importer import importer_loop
from example_projects.fastapi_shop.pid import WorkerPidMiddleware
from example_projects.fastapi_shop.shop import Shop
from example_projects.shopkit.settings import KEY_PREFIX, REDIS_URL, worker_pid
from example_projects.shopkit.stock import FencedStock
from goscope_redis import AsyncRedisAdapter, configure, scope
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig


def create_app(url: str = REDIS_URL, prefix: str = KEY_PREFIX) -> FastAPI:
    """The shop: routes, the goscope middleware (idempotency on POST), the pid header."""
    adapter = AsyncRedisAdapter.from_url(url, key_prefix=prefix)
    configure(async_adapter=adapter)  # the decorators (@cached, @circuit, @with_lock) use it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Run this worker's importer loop while the app serves."""
        async with scope(persistence=adapter, name=f"worker {worker_pid()}") as background:
            background.spawn(importer_loop, adapter)
            yield
            background.cancel()  # an import in flight keeps its checkpoint for next time
        await adapter.disconnect()

    app = FastAPI(title="goscope-redis FastAPI shop", lifespan=lifespan)
    app.state.shop = Shop(adapter, FencedStock(adapter.client, prefix))
    for module in (payments, catalog, orders, quote, imports):
        app.include_router(module.router)
    app.add_api_route("/health", health)
    app.add_middleware(
        GoScopeMiddleware,
        adapter=adapter,
        idempotency=IdempotencyConfig(methods=("POST",), lease=30_000),
    )
    app.add_middleware(WorkerPidMiddleware)  # added last: outermost
    return app


async def health() -> dict[str, object]:
    """Readiness, and which worker answered."""
    return {"status": "ok", "pid": worker_pid()}


app = create_app()
