"""What every tour section gets: pinned clients for worker A and B, and worker control."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from example_projects.tour import out
from example_projects.tour.client import Workers
from example_projects.tour.report import Check


class WorkerControl(Protocol):
    """What the launcher lets the tour do to the server's worker processes."""

    def worker_pids(self) -> list[int]:
        """The live worker processes of the server."""
        ...

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker (the server restarts it)."""
        ...


@dataclass(frozen=True, slots=True)
class TourContext:
    """Worker ``a`` and worker ``b`` are two different processes of the same server."""

    workers: Workers
    a: int
    b: int
    any: httpx.AsyncClient
    control: WorkerControl
    run_id: str

    def on_a(self, index: int = 0) -> httpx.AsyncClient:
        """A connection to worker A."""
        return self.workers.on(self.a, index)

    def on_b(self, index: int = 0) -> httpx.AsyncClient:
        """A connection to worker B."""
        return self.workers.on(self.b, index)


@dataclass(slots=True)
class Findings:
    """What one section found: facts for the report, and its checked claims (printed)."""

    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def claim(self, claim: str, ok: bool, detail: str) -> bool:
        """Record and print a claim with the evidence; return whether it held."""
        self.checks.append(Check(claim, bool(ok), detail))
        out.verdict(bool(ok), claim if ok else f"{claim} ({detail})")
        return bool(ok)
