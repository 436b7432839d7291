"""Every Lua script the library runs, loaded once at import (their SHA1s are precomputed)."""

from __future__ import annotations

from typing import Final

from goscope_redis.effects import Script

LOCK_ACQUIRE: Final = Script.load("lock_acquire")
LOCK_RELEASE: Final = Script.load("lock_release")
LOCK_FORCE_RELEASE: Final = Script.load("lock_force_release")
LOCK_EXTEND: Final = Script.load("lock_extend")
LOCK_OWNED: Final = Script.load("lock_owned")
LOCK_ABANDON: Final = Script.load("lock_abandon")
CACHE_INCR: Final = Script.load("cache_incr")
CACHE_GET_TTL: Final = Script.load("cache_get_ttl")

ALL: list[Script] = [
    LOCK_ACQUIRE,
    LOCK_RELEASE,
    LOCK_FORCE_RELEASE,
    LOCK_EXTEND,
    LOCK_OWNED,
    LOCK_ABANDON,
    CACHE_INCR,
    CACHE_GET_TTL,
]
"""Scripts that ``connect()`` preloads; providers append theirs when they are imported."""


def register(script: Script) -> Script:
    """Add a provider's script to :data:`ALL` so ``connect()`` preloads it."""
    if script not in ALL:
        ALL.append(script)
    return script
