"""What the tour found: one frozen record per section, and the checks derived from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Check:
    """One claim the tour verified against the live shop."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TourReport:
    """Everything the tour saw, plus its checks; ``ok`` when every check passed."""

    shop: str
    workers: list[int]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed (and there were some)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        """The checks that did not hold."""
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``run.py --report`` writes it; the smoke tests read it)."""
        return {**asdict(self), "ok": self.ok}
