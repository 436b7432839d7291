"""The shops read their settings from the environment (the launcher sets them)."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
KEY_PREFIX = os.environ.get("SHOP_PREFIX", "shop:")

BREAKER = "quote-upstream"
BREAKER_FAILURES = 3
BREAKER_RESET_MS = 10_000
CATALOG_TTL_MS = 30_000
INITIAL_STOCK = 100
IMPORT_LEASE_MS = 2_000  # how long a killed worker's import stays claimed before another resumes
IMPORT_POLL_S = 0.25
RECORD_TTL_MS = 3_600_000


def worker_pid() -> int:
    """The pid of the worker process serving this request (shown in every response)."""
    return os.getpid()
