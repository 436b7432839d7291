"""Argument parsing, dispatch and the error policy: one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import redis

from goscope_redis.cli import breakers, checkpoints, clear_cache, idempotency, locks, status
from goscope_redis.cli.context import CliError, open_context, redacted

PROG = "goscope-redis"
SUBCOMMANDS = (status, locks, breakers, idempotency, checkpoints, clear_cache)


def _options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # The options are accepted before and after the subcommand; after it, argparse must not
    # reset what was given before, hence SUPPRESS as the subparsers' default.
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--url", default=default(None), help="Redis URL (default: $REDIS_URL)")
    parser.add_argument("--prefix", default=default(""), help="the adapters' key_prefix")
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="machine-readable output"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``goscope-redis`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Show what goscope-redis holds in Redis. SCAN only; only clear-cache writes.",
    )
    _options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub, common)
    return parser


def _fail(message: str, code: int) -> int:
    one_line = " ".join(message.split())
    print(f"{PROG}: {one_line}", file=sys.stderr)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("REDIS_URL")
    if not url:
        raise CliError("no Redis URL: pass --url or set REDIS_URL")
    ctx = open_context(url, args.prefix, args.json)
    try:
        code: int = args.run(ctx, args)
        return code
    finally:
        ctx.client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 not found or aborted, 2 usage or Redis)."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except BrokenPipeError:  # the reader went away (`| head`): not a Redis problem
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (kept open: stops the exit-time flush failing)
        return 1
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        where = redacted(args.url or os.environ.get("REDIS_URL", ""))
        return _fail(f"cannot reach Redis at {where}: {exc}", 2)
    except redis.RedisError as exc:
        return _fail(f"Redis error: {exc}", 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
