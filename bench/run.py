"""Run the goscope-redis bench: ``python bench/run.py [--quick] [--only NAME] [--list]``.

Prints each comparison as median [min..max] µs per operation for both sides, the throughput
ratio against the peer with PASS/MISS against its target, and round trips / commands per
operation counted by Redis; then the scaling series and the studies (``clear()`` blocking,
memory per key). Writes ``bench/results/latest.json`` and the chart ``latest.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import importlib
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, TypeVar

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Import goscope_redis from this checkout, not from whatever happens to be installed.
for _path in (str(BENCH), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import anchor_env  # noqa: E402
import harness  # noqa: E402
import redis  # noqa: E402
from chart import title_of, write_png  # noqa: E402
from report import comparison_record, scaling_tables, table, write_json  # noqa: E402
from tables import Study, Table  # noqa: E402

SUITES = (
    "cases_cache",
    "cases_lock",
    "cases_breaker",
    "cases_idempotency",
    "cases_checkpoint",
    "cases_decorators",
    "cases_asgi",
    "cases_django",
    "study_floor",
    "study_django_floor",
    "study_django_get_floor",
    "study_asgi_floor",
    "study_clear",
    "study_memory",
)
"""Modules that define ``COMPARISONS`` and/or ``STUDIES``; add a module here to add them."""


def all_comparisons() -> list[harness.Comparison]:
    """Every registered comparison, in suite order."""
    found: list[harness.Comparison] = []
    for suite in SUITES:
        found.extend(getattr(importlib.import_module(suite), "COMPARISONS", ()))
    return found


def all_studies() -> list[Study]:
    """Every registered study, in suite order."""
    found: list[Study] = []
    for suite in SUITES:
        found.extend(getattr(importlib.import_module(suite), "STUDIES", ()))
    return found


Named = TypeVar("Named", harness.Comparison, Study)


def matches(name: str, only: list[str]) -> bool:
    """Does ``name`` match any ``--only`` value: a glob, a substring, or ``=name`` exactly."""
    return any(
        name == pat[1:] if pat.startswith("=") else fnmatch.fnmatchcase(name, pat) or pat in name
        for pat in only
    )


def selected(items: list[Named], only: list[str]) -> list[Named]:
    """Items whose name matches any ``--only`` value (all of them without ``--only``)."""
    return [c for c in items if matches(c.name, only)] if only else items


def anchored(args: argparse.Namespace) -> list[str]:
    """The rows to measure again on the anchor's redis-py (:mod:`anchor_env`).

    All of them in a full run; those named by ``--only``; none in a plain ``--quick`` (the
    smoke run must not need the network) nor inside the nested run itself.
    """
    if anchor_env.is_child() or (args.quick and not args.only):
        return []
    return [
        row
        for row in anchor_env.ROWS
        if not args.only or matches(row + anchor_env.SUFFIX, args.only)
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run comparisons matching NAME (glob, substring, or =NAME exactly); repeatable",
    )
    parser.add_argument("--list", action="store_true", help="list comparison names and exit")
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin server+bench to (0)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument(
        "--budget",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="timed work per comparison at most (iterations are cut to fit; default 3)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="results JSON path, the PNG chart next to it (default: results/latest.json for a "
        "full run, results/partial.json for --quick or --only)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.output is None:
        # A smoke run or a subset never overwrites the committed figures of the last full run.
        partial = args.quick or args.only
        args.output = BENCH / "results" / ("partial.json" if partial else "latest.json")
    return args


def cpu_model() -> str:
    """The processor's name: some ratios move with it (bench/README.md, "How to read it")."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def metadata(env: harness.Env, args: argparse.Namespace) -> dict[str, Any]:
    """Where and how the figures were taken."""
    server = env.probe.info("server")
    versions: dict[str, str] = {"redis_server": str(server.get("redis_version"))}
    for module in ("redis", "hiredis", "orjson"):
        try:
            versions[module] = importlib.import_module(module).__version__
        except (ImportError, AttributeError):
            versions[module] = "absent"
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "redis_py_from": str(Path(redis.__file__).parent),
        "pinned_cpus": env.pinned if not args.no_pin else None,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "quick": args.quick,
        "argv": sys.argv[1:],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the selected comparisons and studies, print the tables, write JSON and PNG."""
    args = parse_args(argv)
    comparisons = selected(all_comparisons(), args.only)
    if args.quick and not args.only:
        comparisons = [c for c in comparisons if c.in_quick]
    studies = selected(all_studies(), args.only)
    again = anchored(args)
    if args.list or not (comparisons or studies or again):
        listed = [c.name for c in all_comparisons()] + [s.name for s in all_studies()]
        print("\n".join(listed + anchor_env.names()))
        return 0 if args.list else 2
    began = time.perf_counter()
    cpu = None if args.no_pin else args.cpu
    with harness.environment(args.quick, cpu, args.budget) as env:
        meta = metadata(env, args)
        print(_banner(meta), flush=True)
        records = [_measure(env, comparison) for comparison in comparisons]
        tables = scaling_tables(records) + [_study(env, study) for study in studies]
    if again:
        records = _measure_again(args, again, records, meta)
    meta["wall_seconds"] = round(time.perf_counter() - began, 1)
    if records:
        print(table(records))
    if meta.get("anchor_env", {}).get("redis_client_build_us"):
        print(_anchor_line(meta["anchor_env"]))
    for extra in tables:
        print("\n" + extra.render())
    print(f"\ntotal wall time {meta['wall_seconds']:.1f} s")
    write_json(args.output, meta, records, tables)
    chart = args.output.with_suffix(".png")
    drawn = bool(records) and write_png(chart, records, title_of(meta))
    print(f"wrote {args.output}" + (f" and {chart.name}" if drawn else " (no chart)"))
    missed = [r["name"] for r in records if r["pass"] is False]
    return 1 if args.strict and missed else 0


def _measure(env: harness.Env, comparison: harness.Comparison) -> dict[str, Any]:
    print(f"... {comparison.name}", file=sys.stderr, end="", flush=True)
    record = comparison_record(harness.measure(env, comparison))
    print(f" ({record['seconds']:.1f} s)", file=sys.stderr, flush=True)
    return record


def _measure_again(
    args: argparse.Namespace, rows: list[str], records: list[dict[str, Any]], meta: dict[str, Any]
) -> list[dict[str, Any]]:
    """``records`` plus ``rows`` measured again on the anchor's redis-py; notes it in ``meta``."""
    again, build_us = anchor_env.measure(rows, _child_options(args))
    meta["anchor_env"] = {
        "redis": anchor_env.ANCHOR_VERSION,
        "rows": rows,
        "measured": bool(again),  # False: skipped, the reason is on stderr
        "redis_client_build_us": build_us,
    }
    return _beside(records, again)


def _anchor_line(anchor: dict[str, Any]) -> str:
    costs = ", ".join(f"{us:.1f} µs on {v}" for v, us in anchor["redis_client_build_us"].items())
    return (
        f"\n*{anchor_env.SUFFIX}: both sides on redis-py {anchor['redis']}, the anchor version of "
        f"performance.md. Django's RedisCache builds a redis.Redis per call: {costs}."
    )


def _child_options(args: argparse.Namespace) -> list[str]:
    """The parent's measuring options, for the nested run."""
    pin = ["--no-pin"] if args.no_pin else ["--cpu", str(args.cpu)]
    return [*(["--quick"] if args.quick else []), "--budget", str(args.budget), *pin]


def _beside(records: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` with each of ``extra`` placed right after the row it re-measures."""
    placed = list(records)
    for record in extra:
        base = record["name"].removesuffix(anchor_env.SUFFIX)
        where = next((i for i, r in enumerate(placed) if r["name"] == base), len(placed) - 1)
        placed.insert(where + 1, record)
    return placed


def _study(env: harness.Env, study: Study) -> Table:
    print(f"... {study.name}", file=sys.stderr, end="", flush=True)
    start = time.perf_counter()
    result = study.run(env)
    print(f" ({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
    return result


def _banner(meta: dict[str, Any]) -> str:
    v, cpus = meta["versions"], meta["pinned_cpus"]
    pinned = f"pinned to CPU {','.join(map(str, cpus))}" if cpus else "not pinned"
    return (
        f"goscope-redis bench: redis-server {v['redis_server']}, redis-py {v['redis']}, "
        f"hiredis {v['hiredis']}, orjson {v['orjson']}, Python {meta['python']}, {pinned}"
        f"{' (quick)' if meta['quick'] else ''}\n"
        f"CPU: {meta.get('cpu_model', 'unknown')} x {meta['cpu_count']}\n"
        "RT/op = request reads counted by Redis (round trips); cmd/op = commandstats calls, "
        "including commands run inside Lua scripts.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
