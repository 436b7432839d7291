"""What ``manage.py goscope_redis status`` reports, gathered with ``SCAN`` (never ``KEYS``).

Sans-IO like the rest: :func:`status` is an operation the sync runner drives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from goscope_redis.effects import Batch, Call, Op
from goscope_redis.keys import KeySpace
from goscope_redis.ops.cache import scan

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


def _facts(info: Any) -> dict[str, Any]:
    # redis-py parses INFO into a dict unless the client keeps replies raw (Django's does).
    if isinstance(info, dict):
        return info
    lines = _text(info).splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("#"))


def _scan(space: KeySpace, cluster: bool) -> Op[list[Any]]:
    # A set: SCAN may return a key twice (while the keyspace rehashes).
    return list(set((yield from scan(space.match(), _COUNT, cluster=cluster))))


def _field_counts(keys: list[Any], field_name: str, missing: str) -> Op[dict[str, int]]:
    """How many of the hashes ``keys`` hold each value of ``field_name`` (one round trip)."""
    if not keys:
        return {}
    replies = yield Batch([Call(("HGET", k, field_name)) for k in keys])
    counts = Counter(
        missing if r is None or isinstance(r, Exception) else _text(r) for r in replies
    )
    return dict(counts)


def status(prefix: str, cluster: bool = False) -> Op[Status]:
    """Ping facts plus counts of locks, cache keys, breakers by state and idempotency records.

    On a Cluster (``cluster``) every primary is walked: one node's ``SCAN`` sees its keys only.
    """
    facts = _facts((yield Call(("INFO", "server"))))
    locks = yield from _scan(KeySpace(prefix, "lock"), cluster)
    cache = yield from _scan(KeySpace(prefix, "cache"), cluster)
    breakers = yield from _scan(KeySpace(prefix, "circuit"), cluster)
    records = yield from _scan(KeySpace(prefix, "idempotency"), cluster)
    by_state = yield from _field_counts(breakers, "state", "closed")
    by_stage = yield from _field_counts(records, "s", "unknown")
    stages = {"run": "in_progress", "ok": "completed", "err": "failed"}
    return Status(
        str(facts.get("redis_version", "?")).strip(),
        str(facts.get("redis_mode", "?")).strip(),
        len(locks),
        len(cache),
        by_state,
        {stages.get(k, k): v for k, v in by_stage.items()},
    )
