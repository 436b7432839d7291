"""Section: the catalog is built once and served from Redis by the other worker."""

from __future__ import annotations

from example_projects.tour import out
from example_projects.tour.client import call
from example_projects.tour.context import Findings, TourContext


async def tour_catalog(ctx: TourContext) -> Findings:
    """GET /catalog?refresh=1 on A (a miss), then GET /catalog on B (a hit of A's build)."""
    found = Findings()
    built = await call(ctx.on_a(), "GET", "/catalog", params={"refresh": "1"})
    builder = built.body.get("computed_by")
    out.step("GET /catalog?refresh=1", built.pid, f"{built.body.get('cache')}, built by {builder}")
    shared = await call(ctx.on_b(), "GET", "/catalog")
    out.step("GET /catalog", shared.pid, f"{shared.body.get('cache')}, built by {builder}")
    same = shared.body.get("build_id") == built.body.get("build_id")
    found.facts = {"built_by": builder, "hit_served_by": shared.pid, "same_build": same}
    found.claim(
        "catalog built once, then served from Redis by the other worker",
        built.body.get("cache") == "miss" and shared.body.get("cache") == "hit" and same,
        f"A: {built.body.get('cache')}, B: {shared.body.get('cache')}, same build: {same}",
    )
    return found
