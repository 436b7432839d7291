"""``GET /catalog``: built once, then served from Redis by every worker (``@cached``)."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import APIRouter

from example_projects.shopkit.catalog import build_catalog
from example_projects.shopkit.settings import CATALOG_TTL_MS, worker_pid
from goscope_redis import cached

router = APIRouter()

# Set by the function body, which only runs on a miss. An awaited coroutine shares its caller's
# context, so the route sees the flag.
_computed_here: ContextVar[bool] = ContextVar("catalog_computed_here", default=False)


@cached(ttl=CATALOG_TTL_MS, key="catalog")
async def cached_catalog() -> dict[str, object]:
    """The catalog, built by at most one worker per TTL (others wait, then read it)."""
    _computed_here.set(True)
    return await build_catalog()


@router.get("/catalog")
async def catalog(refresh: bool = False) -> dict[str, object]:
    """The catalog and whether this request hit the cache (``?refresh=1`` invalidates)."""
    if refresh:
        await cached_catalog.invalidate()  # type: ignore[attr-defined]
    _computed_here.set(False)
    data = await cached_catalog()
    return {**data, "cache": "miss" if _computed_here.get() else "hit", "pid": worker_pid()}
