"""Section: one order line locked from both workers; a stalled holder's write is fenced."""

from __future__ import annotations

import asyncio

import httpx

from example_projects.tour import out
from example_projects.tour.client import Reply, call
from example_projects.tour.context import Findings, TourContext

PER_WORKER = 3
HOLD_MS = 200
PAUSE_MS = 1500


def _reserve(client: httpx.AsyncClient, order: str, **params: int) -> asyncio.Future[Reply]:
    return asyncio.ensure_future(call(client, "POST", f"/orders/{order}/reserve", params=params))


async def _contend(ctx: TourContext, order: str, found: Findings) -> None:
    clients = [ctx.workers.on(pid, i) for i in range(PER_WORKER) for pid in (ctx.a, ctx.b)]
    replies = await asyncio.gather(*(_reserve(c, order, hold_ms=HOLD_MS) for c in clients))
    ordered = sorted(replies, key=lambda r: r.body.get("fencing_token", 0))
    for reply in ordered:
        body = reply.body
        out.step(
            f"POST /orders/{order}/reserve",
            reply.pid,
            f"{reply.status} token {body.get('fencing_token')}, stock {body.get('stock_left')}, "
            f"after {body.get('elapsed_ms')} ms",
        )
    tokens = [r.body.get("fencing_token") for r in ordered]
    stock = [r.body.get("stock_left") for r in ordered]
    found.facts["contended"] = [[r.pid, r.body.get("fencing_token"), r.status] for r in ordered]
    found.claim(
        f"{len(clients)} reservations from both workers ran one at a time",
        all(r.status == 200 for r in replies)
        and {r.pid for r in replies} == {ctx.a, ctx.b}
        and len(set(tokens)) == len(tokens)
        and stock == sorted(stock, reverse=True)
        and len(set(stock)) == len(stock),
        f"statuses {[r.status for r in replies]}, tokens {tokens}, stock {stock}",
    )


async def _fence(ctx: TourContext, order: str, found: Findings) -> None:
    stalled = _reserve(ctx.on_a(), order, pause_ms=PAUSE_MS)
    await asyncio.sleep(0.8)  # A holds the lock (500 ms lease, not extended) and is stalling
    newer = await _reserve(ctx.on_b(), order)
    out.step(
        "POST reserve (while A stalls)",
        newer.pid,
        f"{newer.status} token {newer.body.get('fencing_token')}: A's lease ran out",
    )
    stale = await stalled
    out.step(
        f"POST reserve?pause_ms={PAUSE_MS}",
        stale.pid,
        f"{stale.status} {stale.body.get('outcome')}: token {stale.body.get('fencing_token')} "
        f"< {stale.body.get('last_token')}",
    )
    found.facts["fenced"] = {
        "stale": [stale.status, stale.body.get("fencing_token")],
        "newer": [newer.status, newer.body.get("fencing_token")],
    }
    found.claim(
        "the stalled holder's late write is refused by its fencing token",
        newer.status == 200 and stale.status == 409 and stale.body.get("outcome") == "fenced",
        f"newer {newer.status}, stale {stale.status} {stale.body.get('outcome')}",
    )


async def tour_locks(ctx: TourContext) -> Findings:
    """Contention from both workers, then fencing."""
    found, order = Findings(), f"tour-{ctx.run_id}"
    await _contend(ctx, order, found)
    await _fence(ctx, order, found)
    return found
