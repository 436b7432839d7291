"""``checkpoints``: every task with checkpoints, its latest sequence and a progress bar."""

from __future__ import annotations

import argparse
from typing import Any

import redis

from goscope_redis.cli.context import Context
from goscope_redis.cli.render import Column, Row, duration, emit_rows, optional, progress_bar
from goscope_redis.cli.scan import scan_keys
from goscope_redis.cli.status import INDEX_TAIL

COLUMNS = (
    Column("TASK", "task"),
    Column("SEQ", "sequence", optional),
    Column("PROGRESS", "progress", progress_bar),
    Column("UPDATED", "age_ms", lambda v: "-" if v is None else f"{duration(v)} ago"),
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``checkpoints`` subcommand."""
    parser = sub.add_parser("checkpoints", parents=[common], help="checkpointed tasks")
    parser.set_defaults(run=run)


def tasks(ctx: Context) -> list[str]:
    """Task ids, one per checkpoint index key."""
    space = ctx.space("checkpoint")
    keys = scan_keys(ctx.client, space.match_all())
    return sorted(space.user_key(k[: -len(":index")]) for k in keys if k.endswith(INDEX_TAIL))


def _latest(ctx: Context, task: str, now: int) -> Row:
    try:
        cp = ctx.adapter.load_latest_checkpoint(task)
    except (ValueError, KeyError, TypeError, redis.ResponseError):
        # Another serializer wrote it, or an ACL forbids scripts: the index still has the sequence.
        cp = None
    if cp is not None:
        return {
            "task": task,
            "sequence": cp.sequence,
            "progress": float(cp.progress),
            "timestamp": cp.timestamp,
            "age_ms": max(0, now - cp.timestamp),
        }
    top = ctx.client.zrange(ctx.space("checkpoint").key(task, "index"), -1, -1, withscores=True)
    sequence = int(top[0][1]) if top else None
    return {"task": task, "sequence": sequence, "progress": None, "timestamp": None, "age_ms": None}


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print each task's latest checkpoint."""
    now = ctx.now_ms()
    found = [_latest(ctx, task, now) for task in tasks(ctx)]
    emit_rows(ctx, found, COLUMNS, f"No checkpointed tasks under prefix {ctx.prefix!r}.")
    return 0
