"""Where the time goes on the comparisons that miss their target: a pyinstrument profile of each
side, ``python bench/profiles.py [--quick] [--only NAME]``.

For every comparison in :data:`PROFILED` it enters both sides' setups exactly as ``run.py``
does (the same server, values and keys), warms them up, then samples each side's loop with
pyinstrument and writes ``bench/results/profiles/<comparison>.txt``: ours, then the peer, each
headed by its µs per operation while profiled (sampling slows both alike). The uvicorn rows
run in worker processes, so the ASGI profile is of the in-process comparison (the same
middleware, the same app, called without a server).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for _path in (str(BENCH), str(BENCH.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402
from run import all_comparisons  # noqa: E402

PROFILED = {
    "django.get.sync.vs-django": 20_000,
    "django.set.sync.vs-django": 20_000,
    "django.get_many100.sync.vs-django-redis": 1_500,
    "asgi.no_key.inprocess": 10_000,
}
"""Comparison name -> iterations profiled per side (about a second each)."""
OUT = BENCH / "results" / "profiles"
INTERVAL_S = 0.0002


def profile_side(run: harness.Runner, n: int) -> tuple[str, float]:
    """Profile ``n`` iterations of ``run``; the text report and µs per operation."""
    from pyinstrument import Profiler

    run(max(1, n // 10))  # warm: connections, scripts, code paths
    profiler = Profiler(interval=INTERVAL_S)
    profiler.start()
    sample = run(n)
    profiler.stop()
    report = profiler.output_text(unicode=True, color=False, show_all=True)
    return report, sample.seconds / sample.ops * 1e6


def profile(env: harness.Env, comparison: harness.Comparison, n: int) -> str:
    """Both sides of ``comparison``, one report after the other."""
    parts = [f"{comparison.name}: {comparison.note}".rstrip(": ")]
    with ExitStack() as stack:
        ours = stack.enter_context(comparison.ours.setup(env))
        peer = stack.enter_context(comparison.peer.setup(env))
        for case, run in ((comparison.ours, ours), (comparison.peer, peer)):
            text, us = profile_side(run, n)
            parts.append(f"\n=== {case.label}: {us:.1f} µs/op while profiled, {n} ops ===\n{text}")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write one profile file per comparison in :data:`PROFILED`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations each (smoke)")
    parser.add_argument("--only", default="", metavar="NAME", help="comparisons containing NAME")
    parser.add_argument("--output", type=Path, default=OUT, help="directory for the reports")
    args = parser.parse_args(argv)
    wanted = {c.name: c for c in all_comparisons() if c.name in PROFILED and args.only in c.name}
    args.output.mkdir(parents=True, exist_ok=True)
    with harness.environment(args.quick, 0, 3.0) as env:
        for name, comparison in wanted.items():
            n = 20 if args.quick else PROFILED[name]
            path = args.output / f"{name}.txt"
            path.write_text(profile(env, comparison, n), encoding="utf-8")
            print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
