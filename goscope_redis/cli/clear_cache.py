"""``clear-cache``: delete this prefix's cache entries (and nothing else), after confirming."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from goscope_redis.cli.context import CliError, Context
from goscope_redis.cli.render import emit_json
from goscope_redis.cli.scan import scan_keys


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``clear-cache`` subcommand."""
    parser = sub.add_parser(
        "clear-cache", parents=[common], help="delete this prefix's cache entries"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(run=run)


def confirmed(ctx: Context, count: int) -> bool:
    """Ask on stderr, read one line from stdin; only ``y`` or ``yes`` confirms."""
    question = f"Delete {count} cache entries under prefix {ctx.prefix!r} at {ctx.location}? [y/N] "
    print(question, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not sys.stdin.isatty():  # a piped answer is not echoed: end the prompt's line ourselves
        print(file=sys.stderr)
    return answer.strip().lower() in ("y", "yes")


def _report(ctx: Context, deleted: int) -> None:
    if ctx.as_json:
        emit_json(ctx, {"prefix": ctx.prefix, "deleted": deleted})
    else:
        print(f"Deleted {deleted} cache entries under prefix {ctx.prefix!r}.", file=ctx.out)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Count, confirm, then delete with the adapter's ``clear()`` (``SCAN`` + ``UNLINK``)."""
    count = len(scan_keys(ctx.client, ctx.space("cache").match()))
    if count and not args.yes and not confirmed(ctx, count):
        raise CliError("aborted; nothing was deleted", 1)
    _report(ctx, ctx.adapter.clear() if count else 0)
    return 0
