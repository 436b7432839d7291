"""``manage.py goscope_redis status`` and ``manage.py goscope_redis clear-cache``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError, CommandParser

from goscope_redis.runner import run_sync
from goscope_redis_django import connections as conn
from goscope_redis_django._status import status
from goscope_redis_django.cache import RedisCache
from goscope_redis_django.checks import redact
from goscope_redis_django.conf import get_config


class Command(BaseCommand):  # type: ignore[misc]  # Django is untyped
    """Inspect the goscope-redis records under ``GOSCOPE_REDIS['KEY_PREFIX']``, or clear caches."""

    help = "goscope-redis: 'status' (ping, version, record counts) or 'clear-cache'."

    def add_arguments(self, parser: CommandParser) -> None:
        """Two subcommands."""
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("status", help="ping Redis and count locks, breakers, records")
        show.add_argument("--json", action="store_true", help="print one JSON object")
        clear = sub.add_parser("clear-cache", help="delete the keys of goscope caches only")
        clear.add_argument(
            "--alias", action="append", default=[], help="CACHES alias (repeatable; default all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the subcommand."""
        if options["action"] == "status":
            self._status(as_json=options["json"])
        else:
            self._clear(options["alias"])

    def _status(self, *, as_json: bool) -> None:
        config = get_config()
        client = conn.sync_client(config.client)
        started = time.perf_counter()
        try:
            client.ping()
        except Exception as exc:  # report, do not crash with a traceback
            url = redact(config.client.url)
            raise CommandError(f"Redis at {url} is unreachable: {exc}") from exc
        ping_ms = (time.perf_counter() - started) * 1000
        report = run_sync(status(config.prefix, config.client.cluster), client)
        doc = {
            "url": redact(config.client.url),
            "prefix": config.prefix,
            "ping_ms": round(ping_ms, 3),
            **asdict(report),
        }
        if as_json:
            self.stdout.write(json.dumps(doc, sort_keys=True))
            return
        for name, value in doc.items():
            self.stdout.write(f"{name:>12}: {value}")

    def _clear(self, aliases: list[str]) -> None:
        ours = [a for a in caches if isinstance(caches[a], RedisCache)]
        unknown = [a for a in aliases if a not in ours]
        if unknown:
            raise CommandError(f"not goscope caches: {unknown}; goscope caches are {ours}")
        for alias in aliases or ours:
            deleted = caches[alias]._clear()
            self.stdout.write(f"cleared CACHES[{alias!r}]: {deleted} keys deleted")
