"""``locks``: every held lock with its owner, remaining lease and fencing token."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from goscope_redis.cli.context import Context
from goscope_redis.cli.render import Column, Row, duration, emit_rows, optional
from goscope_redis.cli.scan import Command, read_each, scan_keys, text
from goscope_redis.keys import KeySpace

COLUMNS = (
    Column("KEY", "key"),
    Column("OWNER", "owner"),
    Column("TTL", "ttl_ms", duration),
    Column("FENCE", "fencing_token", optional),
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``locks`` subcommand."""
    parser = sub.add_parser("locks", parents=[common], help="held locks")
    parser.set_defaults(run=run)


def _reads(space: KeySpace) -> Callable[[str], list[Command]]:
    def commands(key: str) -> list[Command]:
        # The fence counter holds the newest token issued, which is the current holder's.
        fence = space.key(space.user_key(key), "fence")
        return [("GET", key), ("PTTL", key), ("GET", fence)]

    return commands


def rows(ctx: Context) -> list[Row]:
    """One row per held lock; a lock released between the scan and the read is left out."""
    space = ctx.space("lock")
    keys = scan_keys(ctx.client, space.match())
    found = []
    for key, (owner, pttl, fence) in read_each(ctx.client, keys, _reads(space)):
        if owner is None:
            continue
        found.append(
            {
                "key": space.user_key(key),
                "owner": text(owner),
                "ttl_ms": int(pttl) if int(pttl) >= 0 else None,
                "fencing_token": None if fence is None else int(fence),
            }
        )
    return found


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print the held locks."""
    emit_rows(ctx, rows(ctx), COLUMNS, f"No locks held under prefix {ctx.prefix!r}.")
    return 0
