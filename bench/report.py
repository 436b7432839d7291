"""Turn measurements into the printed table, the JSON record and the SVG chart."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

from contention import peer_step_notes
from harness import Measured, SideLog, spread
from tables import Table, common_prefix, series_table


def side_record(log: SideLog) -> dict[str, Any]:
    """One side's figures: µs per op, ops/s, round trips and commands per op."""
    us = spread(log.us_per_op)
    per_op = {cmd: round(count / log.ops, 3) for cmd, count in sorted(log.calls.items())}
    return {
        "label": log.label,
        "us_per_op": {k: round(v, 2) for k, v in us.items()},
        "ops_per_s": round(1e6 / us["median"], 1),
        "samples_us": [round(v, 2) for v in log.us_per_op],
        "round_trips_per_op": round(log.reads / log.ops, 3),
        "commands_per_op": round(sum(log.calls.values()) / log.ops, 3),
        "commands": per_op,
        "extra": {k: round(statistics.median(v), 3) for k, v in sorted(log.extras.items())},
    }


def comparison_record(measured: Measured) -> dict[str, Any]:
    """The JSON record of one comparison."""
    comparison = measured.comparison
    ratio = spread(measured.ratios)
    target = comparison.target_ratio
    return {
        "name": comparison.name,
        "unit": comparison.unit,
        "note": comparison.note,
        "target_ratio": target,
        "ratio": {k: round(v, 3) for k, v in ratio.items()},
        "pass": None if target is None else ratio["median"] >= target,
        "ours": side_record(measured.ours),
        "peer": side_record(measured.peer),
        "iterations": measured.iterations,
        "samples": len(measured.ratios),
        "seconds": round(measured.seconds, 2),
        "scale": None
        if comparison.scale is None
        else {"series": comparison.scale[0], "size": comparison.scale[1]},
    }


_NAME = 22


def _fmt_rate(per_s: float) -> str:
    return f"{per_s / 1000:.1f}k" if per_s >= 1000 else f"{per_s:.0f}"


def _side_line(name: str, side: dict[str, Any], unit: str) -> str:
    us = side["us_per_op"]
    timing = f"{us['median']:.1f} [{us['min']:.1f}..{us['max']:.1f}]"
    rate = f"{_fmt_rate(side['ops_per_s'])} {unit}/s"
    trips = f"{side['round_trips_per_op']:.2f}"
    cmds = f"{side['commands_per_op']:.2f}"
    return f"{name:<22} {side['label']:<34} {timing:>26} {rate:>14} {trips:>6} {cmds:>6}"


def _verdict(record: dict[str, Any]) -> str:
    ratio = record["ratio"]
    text = f"ratio {ratio['median']:.2f}x [{ratio['min']:.2f}..{ratio['max']:.2f}]"
    if record["target_ratio"] is None:
        return f"{'':<22} {text}  (no target)"
    verdict = "PASS" if record["pass"] else "MISS"
    return f"{'':<22} {text}  target >= {record['target_ratio']:.2f}x  {verdict}"


def table(records: list[dict[str, Any]]) -> str:
    """The human-readable table: both sides of each comparison, then its ratio and verdict."""
    head = f"{'comparison':<22} {'side':<34} {'µs/op median [min..max]':>26} "
    lines = [head + f"{'throughput':>14} {'RT/op':>6} {'cmd/op':>6}", "-" * len(head + " " * 29)]
    for record in records:
        unit, name = record["unit"], record["name"]
        if len(name) > _NAME:  # a long name gets a line of its own
            lines.append(name)
            name = ""
        lines.append(_side_line(name, record["ours"], unit))
        lines.append(_side_line("", record["peer"], unit))
        lines.append(_verdict(record))
        for name in record["ours"]["extra"]:
            ours = record["ours"]["extra"][name]
            peer = record["peer"]["extra"].get(name, float("nan"))
            lines.append(f"{'':<22} {name}: ours {ours:.1f}, peer {peer:.1f}")
    return "\n".join(lines)


def scaling_tables(records: list[dict[str, Any]]) -> list[Table]:
    """One table per scaling series found among ``records`` (in order of first appearance)."""
    series: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record.get("scale"):
            series.setdefault(record["scale"]["series"], []).append(record)
    tables = []
    for title, members in series.items():
        found = series_table(
            f"scaling:{common_prefix([m['name'] for m in members])}", title, members
        )
        if found.name == "scaling:lock.contention":
            found = replace(found, notes=peer_step_notes(members))
        tables.append(found)
    return tables


def write_json(
    path: Path, meta: dict[str, Any], records: list[dict[str, Any]], tables: list[Table]
) -> None:
    """Write the results file (creating its directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "comparisons": records,
        "tables": [table.record() for table in tables],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
