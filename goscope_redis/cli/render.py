"""Output: aligned tables for people, JSON for machines, and the value formatters."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from goscope_redis.cli.context import Context

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: its header, the row field it shows and how to format it."""

    header: str
    field: str
    fmt: Callable[[Any], str] = str


def emit_rows(ctx: Context, rows: Sequence[Row], columns: Sequence[Column], empty: str) -> None:
    """Print ``rows`` as a JSON array or as an aligned table (``empty`` when there are none)."""
    if ctx.as_json:
        emit_json(ctx, list(rows))
    elif not rows:
        print(empty, file=ctx.out)
    else:
        cells = [[c.fmt(row[c.field]) for c in columns] for row in rows]
        print_table(ctx, [c.header for c in columns], cells)


def emit_json(ctx: Context, data: Any) -> None:
    """Print ``data`` as indented JSON."""
    print(json.dumps(data, indent=2, sort_keys=False), file=ctx.out)


def print_table(ctx: Context, headers: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for line in [list(headers), *cells]:
        padded = [cell.ljust(w) for cell, w in zip(line, widths)]
        print("  ".join(padded).rstrip(), file=ctx.out)


def print_pairs(ctx: Context, pairs: Sequence[tuple[str, str]]) -> None:
    """A vertical ``label  value`` listing, labels aligned."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        print(f"{label.ljust(width)}  {value}", file=ctx.out)


def optional(value: Any) -> str:
    """``str(value)``, or ``-`` for ``None``."""
    return "-" if value is None else str(value)


def duration(ms: int | None) -> str:
    """``850ms``, ``12.3s``, ``4m05s``, ``2h03m``, ``3d04h``; ``-`` for ``None``."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    minutes, seconds = divmod(ms // 1000, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def expiry(ms: int | None) -> str:
    """A remaining TTL; ``never`` for a key without expiry."""
    return "never" if ms is None else duration(ms)


def timestamp(epoch_ms: int | None) -> str:
    """Epoch ms as UTC ``2026-05-01 12:00:03Z``; ``-`` for ``None``."""
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def progress_bar(percent: float | None, width: int = 20) -> str:
    """``[#######-------------] 35.0%``; ``?`` when the progress could not be read."""
    if percent is None:
        return "?"
    clamped = min(max(percent, 0.0), 100.0)
    filled = round(clamped / 100 * width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {clamped:.1f}%"
