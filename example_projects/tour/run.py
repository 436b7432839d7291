"""``run_tour()``: pin connections to two workers, run each section, collect the report."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from example_projects.tour import out
from example_projects.tour.breaker import tour_breaker
from example_projects.tour.catalog import tour_catalog
from example_projects.tour.client import Workers, fresh_client
from example_projects.tour.context import Findings, TourContext, WorkerControl
from example_projects.tour.imports import tour_import
from example_projects.tour.locks import PER_WORKER, tour_locks
from example_projects.tour.payments import tour_payments
from example_projects.tour.report import Check, TourReport

Section = Callable[[TourContext], Awaitable[Findings]]
SECTIONS: list[tuple[str, str, Section]] = [
    ("catalog", "A shared cache: @cached / CACHES", tour_catalog),
    ("payments", "An idempotent payment: Idempotency-Key", tour_payments),
    ("breaker", "A circuit breaker shared by the workers", tour_breaker),
    ("locks", "A lock contended from both workers, and a fencing token", tour_locks),
    ("import", "A checkpointed import that survives a killed worker", tour_import),
]

__all__ = ["WorkerControl", "run_tour"]


async def run_tour(base_url: str, control: WorkerControl, shop: str = "shop") -> TourReport:
    """Drive the live shop at ``base_url``; print as it goes; return what held."""
    workers = Workers(base_url)
    report = TourReport(shop, [])
    try:
        if not await workers.pin(PER_WORKER):
            report.checks.append(Check("two workers answer", False, f"found {workers.pids}"))
            out.verdict(False, f"could not reach two workers (found {workers.pids})")
            return report
        report.workers.extend(workers.pids[:2])
        out.say(f"Two workers: A = {workers.pids[0]}, B = {workers.pids[1]}.")
        async with fresh_client(base_url) as any_worker:
            ctx = TourContext(
                workers, workers.pids[0], workers.pids[1], any_worker, control, uuid.uuid4().hex[:8]
            )
            await _sections(ctx, report)
    finally:
        await workers.close()
    return report


async def _sections(ctx: TourContext, report: TourReport) -> None:
    for number, (name, title, section) in enumerate(SECTIONS, 1):
        out.section(number, len(SECTIONS), title)
        try:
            found = await section(ctx)
        except Exception as exc:  # report and go on: the other sections still mean something
            found = Findings()
            found.claim(f"{name} section ran", False, f"{type(exc).__name__}: {exc}")
        report.sections[name] = found.facts
        report.checks.extend(found.checks)
