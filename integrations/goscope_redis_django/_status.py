"""What ``manage.py goscope_redis status`` reports, gathered with ``SCAN`` (never ``KEYS``).

Sans-IO like the rest: :func:`status` is an operation the sync runner drives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from goscope_redis.effects import Batch, Call, Op
from goscope_redis.keys import KeySpace
from goscope_redis_django._ops import scan_step

_COUNT: Final = 1000


@dataclass(frozen=True, slots=True)
class Status:
    """Server facts and the goscope records under one prefix."""

    version: str
    mode: str
    locks: int
    cache_keys: int
    breakers: dict[str, int] = field(default_factory=dict)
    idempotency: dict[str, int] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _scan_all(match: str) -> Op[list[Any]]:
    cursor, found = 0, []
    while True:
        cursor, batch = yield from scan_step(match, cursor, _COUNT)
        found.extend(batch)
        if cursor == 0:
            return found


def _field_counts(keys: list[Any], field_name: str, missing: str) -> Op[dict[str, int]]:
    """How many of the hashes ``keys`` hold each value of ``field_name`` (one round trip)."""
    if not keys:
        return {}
    replies = yield Batch([Call(("HGET", k, field_name)) for k in keys])
    counts = Counter(
        missing if r is None or isinstance(r, Exception) else _text(r) for r in replies
    )
    return dict(counts)


def status(prefix: str) -> Op[Status]:
    """Ping facts plus counts of locks, cache keys, breakers by state and idempotency records."""
    info = yield Call(("INFO", "server"))
    text = _text(info)
    facts = dict(
        line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
    )
    locks = yield from _scan_all(KeySpace(prefix, "lock").match())
    cache = yield from _scan_all(KeySpace(prefix, "cache").match())
    breakers = yield from _scan_all(KeySpace(prefix, "circuit").match())
    records = yield from _scan_all(KeySpace(prefix, "idempotency").match())
    by_state = yield from _field_counts(breakers, "state", "closed")
    by_stage = yield from _field_counts(records, "s", "unknown")
    stages = {"run": "in_progress", "ok": "completed", "err": "failed"}
    return Status(
        facts.get("redis_version", "?").strip(),
        facts.get("redis_mode", "?").strip(),
        len(locks),
        len(cache),
        by_state,
        {stages.get(k, k): v for k, v in by_stage.items()},
    )
