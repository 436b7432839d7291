"""Lock operations: acquire (with fencing token), extend, release, and the blocking wait.

Waiters are woken on release through a one-token signal list (``BLPOP``), not by sleeping a
fixed interval. Each ``BLPOP`` is bounded by the holder's remaining lease, so a holder that dies
without releasing still wakes its waiters when the lease expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from goscope_redis import scripts
from goscope_redis.effects import Call, Clock, Eval, Op
from goscope_redis.errors import LockTimeoutError
from goscope_redis.keys import KeySpace

SIGNAL_TTL_MS: Final = 60_000
"""How long an unconsumed wake-up token lives; waiters that missed it fall back to the lease."""
_MIN_BLOCK_S: Final = 0.005


@dataclass(frozen=True, slots=True)
class Acquired:
    """The outcome of one acquire attempt."""

    ok: bool
    token: int  # the fencing token when ok
    retry_ms: int  # the holder's remaining lease when not ok (-1: no expiry, -2: gone)


def _int(value: Any) -> int:
    return int(value)


def acquire(keys: KeySpace, key: str, owner: str, ttl_ms: int) -> Op[Acquired]:
    """One acquire attempt: ``SET NX PX`` plus the fence counter, in one script."""
    reply = yield Eval(
        scripts.LOCK_ACQUIRE, (keys.key(key), keys.key(key, "fence")), (owner, ttl_ms)
    )
    return Acquired(reply[0] == 1, _int(reply[1]) if reply[0] == 1 else 0, _int(reply[1]))


def extend(keys: KeySpace, key: str, owner: str, ttl_ms: int) -> Op[bool]:
    """Reset the lease to ``ttl_ms`` if ``owner`` still holds it."""
    reply = yield Eval(scripts.LOCK_EXTEND, (keys.key(key),), (owner, ttl_ms))
    return bool(reply == 1)


def release(keys: KeySpace, key: str, owner: str) -> Op[bool]:
    """Delete the lock if ``owner`` holds it, waking one waiter."""
    reply = yield Eval(
        scripts.LOCK_RELEASE, (keys.key(key), keys.key(key, "signal")), (owner, SIGNAL_TTL_MS)
    )
    return bool(reply == 1)


def force_release(keys: KeySpace, key: str) -> Op[bool]:
    """Delete the lock whoever holds it, waking one waiter."""
    reply = yield Eval(
        scripts.LOCK_FORCE_RELEASE, (keys.key(key), keys.key(key, "signal")), (SIGNAL_TTL_MS,)
    )
    return bool(reply == 1)


def remaining(keys: KeySpace, key: str, owner: str) -> Op[int]:
    """The lease's remaining ms if ``owner`` holds it, else ``-1``."""
    reply = yield Eval(scripts.LOCK_OWNED, (keys.key(key),), (owner,))
    return _int(reply)


def acquire_waiting(
    keys: KeySpace, key: str, owner: str, ttl_ms: int, wait_ms: int | None, max_block_s: float
) -> Op[int]:
    """Acquire, waiting up to ``wait_ms`` (``None``: forever) for a release or an expiry."""
    result = yield from acquire(keys, key, owner, ttl_ms)
    if result.ok or wait_ms == 0:
        return _done(result, key, wait_ms)
    deadline = None if wait_ms is None else (yield Clock()) + wait_ms / 1000
    signal = keys.key(key, "signal")
    while True:
        block = _block_seconds(result.retry_ms, max_block_s)
        if deadline is not None:
            left = deadline - (yield Clock())
            if left <= 0:
                raise LockTimeoutError(key, wait_ms)
            block = min(block, left)
        woke = yield Call(("BLPOP", signal, round(max(block, _MIN_BLOCK_S), 3)))
        result = yield from acquire(keys, key, owner, ttl_ms)
        if result.ok:
            return result.token
        if woke is None and deadline is not None and (yield Clock()) >= deadline:
            raise LockTimeoutError(key, wait_ms)


def _block_seconds(retry_ms: int, max_block_s: float) -> float:
    # A holder with a lease wakes us at the latest when it expires; -2 means it just vanished.
    if retry_ms == -2:
        return _MIN_BLOCK_S
    if retry_ms < 0:
        return max_block_s
    return min(retry_ms / 1000 + 0.001, max_block_s)


def _done(result: Acquired, key: str, wait_ms: int | None) -> int:
    if not result.ok:
        raise LockTimeoutError(key, wait_ms)
    return result.token
