"""``breakers``: every shared circuit breaker with its state, failures and retry-after.

A breaker's ``reset_timeout`` lives in the code that uses it, not in Redis, so retry-after is
computed from ``--reset-timeout`` (default: the library's 30 000 ms).
"""

from __future__ import annotations

import argparse
from typing import Any

from goscope_redis.cli.context import Context
from goscope_redis.cli.render import Column, Row, duration, emit_rows, timestamp
from goscope_redis.cli.scan import scan_keys
from goscope_redis.ops.circuit import CircuitBreakerState

DEFAULT_RESET_TIMEOUT_MS = 30_000
COLUMNS = (
    Column("NAME", "name"),
    Column("STATE", "state"),
    Column("FAILURES", "failures"),
    Column("OPENED-AT", "opened_at", timestamp),
    Column("RETRY-AFTER", "retry_after_ms", duration),
)


def _positive_ms(value: str) -> int:
    ms = int(value)
    if ms <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of ms, got {value}")
    return ms


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``breakers`` subcommand."""
    parser = sub.add_parser("breakers", parents=[common], help="shared circuit breakers")
    parser.add_argument(
        "--reset-timeout",
        type=_positive_ms,
        default=DEFAULT_RESET_TIMEOUT_MS,
        metavar="MS",
        help="the breakers' reset_timeout, used for retry-after (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def retry_after(state: CircuitBreakerState, now_ms: int, reset_timeout: int) -> int | None:
    """Ms until an open breaker admits a probe; ``None`` unless it is open."""
    if state.state != "open" or state.opened_at is None:
        return None
    return max(0, state.opened_at + reset_timeout - now_ms)


def rows(ctx: Context, reset_timeout: int) -> list[Row]:
    """One row per breaker record, read with the adapter's ``get_state``."""
    space = ctx.space("circuit")
    now = ctx.now_ms()
    found = []
    for key in scan_keys(ctx.client, space.match()):
        name = space.user_key(key)
        state = ctx.adapter.get_state(name)
        if state is None:  # expired between the scan and the read
            continue
        found.append(
            {
                "name": name,
                "state": state.state,
                "failures": state.failure_count,
                "opened_at": state.opened_at,
                "retry_after_ms": retry_after(state, now, reset_timeout),
                "last_failure_time": state.last_failure_time,
                "last_success_time": state.last_success_time,
            }
        )
    return found


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print the breakers."""
    found = rows(ctx, args.reset_timeout)
    emit_rows(ctx, found, COLUMNS, f"No circuit breakers under prefix {ctx.prefix!r}.")
    return 0
