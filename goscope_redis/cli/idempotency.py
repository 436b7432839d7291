"""``idempotency``: idempotency records with status, age and expiry; ``--key`` shows one.

A record is one hash (see ``goscope_redis/ops/idempotency.py``): ``s`` is ``run``, ``ok`` or
``err``; ``t`` is the Redis time at which it entered that state; the key's TTL is its expiry.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from goscope_redis.cli.context import CliError, Context
from goscope_redis.cli.render import (
    Column,
    Row,
    duration,
    emit_json,
    emit_rows,
    expiry,
    print_pairs,
    timestamp,
)
from goscope_redis.cli.scan import Command, read_each, scan_keys, text

STATUS = {"run": "in_progress", "ok": "completed", "err": "failed"}
COLUMNS = (
    Column("KEY", "key"),
    Column("STATUS", "status"),
    Column("AGE", "age_ms", duration),
    Column("EXPIRES-IN", "expires_in_ms", expiry),
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``idempotency`` subcommand."""
    parser = sub.add_parser("idempotency", parents=[common], help="idempotency records")
    parser.add_argument("--key", metavar="K", help="show this one record in full")
    parser.set_defaults(run=run)


def _list_commands(key: str) -> list[Command]:
    # Listings leave the value out: stored responses may be large.
    return [("HMGET", key, "s", "t", "f"), ("PTTL", key)]


def _full_commands(key: str) -> list[Command]:
    return [("HMGET", key, "s", "t", "f", "v"), ("PTTL", key)]


def _record(user_key: str, replies: list[Any], now: int) -> Row | None:
    (state, since, fingerprint, *_), pttl = replies
    if state is None:  # gone between the scan and the read
        return None
    ttl = int(pttl)
    return {
        "key": user_key,
        "status": STATUS.get(text(state), text(state)),
        "age_ms": None if since is None else max(0, now - int(float(since))),
        "expires_in_ms": ttl if ttl >= 0 else None,
        "expires_at": now + ttl if ttl >= 0 else None,
        "fingerprint": text(fingerprint) if fingerprint else None,
    }


def rows(ctx: Context) -> list[Row]:
    """Every record under the prefix (values left out)."""
    space = ctx.space("idempotency")
    now = ctx.now_ms()
    keys = scan_keys(ctx.client, space.match())
    replies = read_each(ctx.client, keys, _list_commands)
    found = (_record(space.user_key(key), reply, now) for key, reply in replies)
    return [row for row in found if row is not None]


def _value(raw: Any) -> dict[str, Any]:
    # Values are encoded by the writer's serializer: JSON is shown, anything else is sized.
    if raw is None:
        return {"value": None}
    try:
        return {"value": json.loads(raw)}
    except ValueError:
        return {"value_bytes": len(raw)}


def _shown_value(row: Row) -> str:
    if "value_bytes" in row:
        return f"<{row['value_bytes']} bytes, not JSON>"
    return "-" if row["status"] == "in_progress" else json.dumps(row["value"])


def show_one(ctx: Context, user_key: str) -> int:
    """Print one record in full, or fail with exit code 1 if there is none."""
    space = ctx.space("idempotency")
    replies = next(read_each(ctx.client, [space.key(user_key)], _full_commands))[1]
    row = _record(user_key, replies, ctx.now_ms())
    if row is None:
        raise CliError(f"no idempotency record for key {user_key!r} under {ctx.prefix!r}", 1)
    row.update(_value(replies[0][3]))
    if ctx.as_json:
        emit_json(ctx, row)
        return 0
    pairs = [
        ("key", user_key),
        ("status", row["status"]),
        ("age", duration(row["age_ms"])),
        ("expires in", expiry(row["expires_in_ms"])),
        ("expires at", timestamp(row["expires_at"])),
        ("fingerprint", row["fingerprint"] or "-"),
        ("value", _shown_value(row)),
    ]
    print_pairs(ctx, pairs)
    return 0


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print every record, or the one named by ``--key``."""
    if args.key is not None:
        return show_one(ctx, args.key)
    emit_rows(ctx, rows(ctx), COLUMNS, f"No idempotency records under prefix {ctx.prefix!r}.")
    return 0
