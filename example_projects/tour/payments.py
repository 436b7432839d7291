"""Section: one payment, charged once, whatever the duplicates and the worker."""

from __future__ import annotations

import asyncio

import httpx

from example_projects.tour import out
from example_projects.tour.client import Reply, call
from example_projects.tour.context import Findings, TourContext

SLOW_MS = 2000


async def _pay(client: httpx.AsyncClient, key: str, amount: int) -> Reply:
    body = {"amount_cents": amount, "currency": "EUR", "delay_ms": SLOW_MS}
    return await call(client, "POST", "/payments", json=body, headers={"Idempotency-Key": key})


async def _race(ctx: TourContext, key: str) -> tuple[Reply, Reply]:
    """The slow charge on A and, while it runs, the same request on B."""
    first_call = asyncio.ensure_future(_pay(ctx.on_a(), key, 4200))
    await asyncio.sleep(0.6)  # the first request has claimed the key by now
    dup = await _pay(ctx.on_b(), key, 4200)
    out.step("POST /payments (duplicate, meanwhile)", dup.pid, f"{dup.status}, {_retry(dup)}")
    first = await first_call
    payment = first.body.get("payment_id")
    out.step(f"POST /payments (charge, {SLOW_MS} ms)", first.pid, f"{first.status} {payment}")
    return first, dup


async def tour_payments(ctx: TourContext) -> Findings:
    """A slow charge on A; a duplicate on B meanwhile (409); the replay (B); a changed body."""
    found, key = Findings(), f"tour-{ctx.run_id}-payment"
    out.note(f"Idempotency-Key: {key}")
    first, duplicate = await _race(ctx, key)
    replay = await _pay(ctx.on_b(), key, 4200)
    replayed = replay.header("idempotent-replayed")
    charged_by = replay.body.get("pid")
    outcome = f"{replay.status} Idempotent-Replayed: {replayed}, charged by {charged_by}"
    out.step("POST /payments (same key and body)", replay.pid, outcome)
    changed = await _pay(ctx.on_b(), key, 9900)
    title = changed.body.get("title", "")
    out.step("POST /payments (same key, new amount)", changed.pid, f"{changed.status} {title}")
    found.facts = {
        "key": key,
        "first": [first.status, first.pid],
        "duplicate": duplicate.status,
        "replay": [replay.status, replay.pid, replayed],
        "changed": changed.status,
    }
    _judge(found, first, duplicate, replay, changed)
    return found


def _retry(reply: Reply) -> str:
    return f"Retry-After: {reply.header('retry-after')}"


def _judge(found: Findings, first: Reply, duplicate: Reply, replay: Reply, changed: Reply) -> None:
    found.claim(
        "a concurrent duplicate gets 409 with Retry-After",
        duplicate.status == 409 and duplicate.header("retry-after") is not None,
        f"got {duplicate.status}",
    )
    replayed = replay.header("idempotent-replayed")
    found.claim(
        "the replay returns the same payment with Idempotent-Replayed: true",
        first.status == 201 and replayed == "true" and replay.body == first.body,
        f"first {first.status}, replay {replay.status} {replayed}",
    )
    found.claim(
        "the same key with a different body gets 422",
        changed.status == 422,
        f"got {changed.status}",
    )
