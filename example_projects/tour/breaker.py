"""Section: the breaker opens in worker A and worker B refuses without calling upstream."""

from __future__ import annotations

import asyncio

from example_projects.tour import out
from example_projects.tour.client import Reply, call
from example_projects.tour.context import Findings, TourContext

MAX_FAILURES = 10


async def _closed_first(ctx: TourContext) -> None:
    """A breaker left open by an earlier run: wait for its reset timeout, probe, go on."""
    for _ in range(3):
        reply = await call(ctx.on_a(), "GET", "/quote")
        if reply.status != 503:
            return
        wait_s = reply.body.get("retry_after_ms", 1000) / 1000 + 0.3
        out.note(f"breaker still open from an earlier run; waiting {wait_s:.1f} s")
        await asyncio.sleep(wait_s)


async def _trip(ctx: TourContext) -> list[Reply]:
    """Failing calls on worker A until the shared breaker reports open."""
    failures: list[Reply] = []
    for _ in range(MAX_FAILURES):
        reply = await call(ctx.on_a(), "GET", "/quote", params={"fail": "1"})
        failures.append(reply)
        state = reply.body.get("breaker", {})
        out.step(
            "GET /quote?fail=1",
            reply.pid,
            f"{reply.status} {reply.body.get('outcome')}, breaker {state.get('state')} "
            f"({state.get('failure_count')} failures)",
        )
        if state.get("state") == "open" or reply.status == 503:
            break
    return failures


async def tour_breaker(ctx: TourContext) -> Findings:
    """Trip the breaker from A; B (which saw no failure) refuses at once; so does A."""
    found = Findings()
    await _closed_first(ctx)
    failures = await _trip(ctx)
    refused_b = await call(ctx.on_b(), "GET", "/quote")
    refused_a = await call(ctx.on_a(), "GET", "/quote")
    for reply in (refused_b, refused_a):
        out.step(
            "GET /quote (healthy upstream)",
            reply.pid,
            f"{reply.status} {reply.body.get('outcome')}, retry in {reply.header('retry-after')} s",
        )
    opened_by = failures[-1].pid if failures else None
    found.facts = {
        "opened_by": opened_by,
        "failures": [r.status for r in failures],
        "refused": {str(r.pid): r.status for r in (refused_b, refused_a)},
        "retry_after_ms": refused_b.body.get("retry_after_ms"),
    }
    found.claim(
        "the breaker opened in worker A after upstream failures",
        bool(failures) and failures[-1].status == 502 and opened_by == ctx.a,
        f"last failure {failures[-1].status if failures else None} from {opened_by}",
    )
    found.claim(
        "worker B refuses while open (503, Retry-After), without calling upstream",
        refused_b.status == 503
        and refused_b.pid == ctx.b
        and refused_b.header("retry-after") is not None,
        f"B answered {refused_b.status}",
    )
    out.note("it half-opens after 10 s: one probe, across all workers, decides")
    return found
