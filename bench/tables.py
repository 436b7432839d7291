"""Plain result tables: the studies' output (``clear()``, memory) and the scaling summaries.

A :class:`Study` measures something that is not an A/B pair (how long ``clear()`` blocks Redis,
how many bytes a lock takes) and returns a :class:`Table`, which the run prints after the
comparisons and stores in ``latest.json`` under ``"tables"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness import Env


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of rows; ``notes`` are printed under it."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        """The table as aligned text (numbers right-aligned, text left-aligned)."""
        cells = [list(self.columns), *([_cell(v) for v in row] for row in self.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        numeric = [
            all(isinstance(row[i], int | float) for row in self.rows)
            for i in range(len(self.columns))
        ]
        lines = [self.title, ""]
        for j, row in enumerate(cells):
            parts = [
                cell.rjust(w) if numeric[i] else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths))
            ]
            lines.append("  ".join(parts).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)

    def record(self) -> dict[str, Any]:
        """The JSON form: a list of row objects keyed by column."""
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [dict(zip(self.columns, row)) for row in self.rows],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Study:
    """A named measurement that yields a :class:`Table` (run after the comparisons)."""

    name: str
    run: Callable[[Env], Table]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def series_table(name: str, title: str, records: Sequence[dict[str, Any]]) -> Table:
    """One scaling series (comparisons sharing ``scale[0]``), smallest size first."""
    rows = []
    for record in sorted(records, key=lambda r: r["scale"]["size"]):
        ours, peer = record["ours"], record["peer"]
        rows.append(
            (
                record["scale"]["size"],
                ours["us_per_op"]["median"],
                peer["us_per_op"]["median"],
                f"{record['ratio']['median']:.2f}x",
                ours["round_trips_per_op"],
                record["name"],
            )
        )
    unit = records[0]["unit"] if records else "op"
    columns = ("size", f"ours µs/{unit}", f"peer µs/{unit}", "ratio", "RT/op", "comparison")
    return Table(name, title, columns, tuple(rows))


def common_prefix(names: Sequence[str]) -> str:
    """The dotted prefix all ``names`` share (``lock.contention`` for its 2p/4p/8p points)."""
    parts = [name.split(".") for name in names]
    shared = []
    for column in zip(*parts):
        if len(set(column)) > 1:
            break
        shared.append(column[0])
    return ".".join(shared)
