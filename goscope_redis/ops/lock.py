"""Lock operations: acquire (with fencing token), extend, release, and the blocking wait.

Waiters are woken on release through a one-token signal list (``BLPOP``), not by sleeping a
fixed interval. Each ``BLPOP`` is bounded by the holder's remaining lease, so a holder that dies
without releasing still wakes its waiters when the lease expires.

Under contention one waiter at a time is the *poller*: it retries every ``POLL_S``, and while it
does a release wakes nobody. A holder that takes the lock again at once (the common pattern of a
worker in a loop) then pays no wake-up of a waiter that would only find the lock taken again;
the poller is what guarantees progress. A waiter that has waited ``STARVE_S`` reserves the next
turn: from then on nobody else may take the free lock first, so no waiter is passed over for
long (Go's ``sync.Mutex`` has the same two modes). It takes over the waiters' role and *parks*,
blocked on a turn list of its own that the release pushes to, so the release wakes exactly the
waiter the lock is kept for, at once.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple, NoReturn

from goscope_redis import scripts
from goscope_redis.effects import Call, Clock, Eval, Op, Sleep
from goscope_redis.errors import LockTimeoutError
from goscope_redis.keys import KeySpace

SIGNAL_TTL_MS: Final = 60_000
"""How long an unconsumed wake-up token lives; waiters that missed it fall back to the lease."""
_MIN_BLOCK_S: Final = 0.005
_LOCAL_WAIT_S: Final = 0.01
"""Waits this short sleep locally instead of blocking in Redis (see acquire_waiting)."""
POLL_S: Final = 0.002
"""How often the polling waiter retries."""
POLLER_MS: Final = 50
"""The poller's role lapses this long after its last retry (it died, or stalled): releases then
wake a waiter again."""
WAITER_BLOCK_S: Final = 0.5
"""The longest a waiter that is not polling blocks before it retries anyway."""
STARVE_S: Final = 0.05
"""A waiter that has waited this long reserves the next turn."""
STARVING_MS: Final = 200
"""A reservation lapses this long after the starving waiter's last retry (it died, or gave up)."""
PARK_S: Final = 0.2
"""The longest the starving waiter blocks, parked, before it retries (and so renews its
reservation) anyway; the release wakes it at once."""
PARK_MS: Final = 500
"""A parked waiter's reservation lapses this long after its last retry: over ``PARK_S`` plus the
100 ms by which Redis may time a blocked client out late."""

_ACQUIRE_KEYS: Final = (None, "fence", "poller", "starving")
_RELEASE_KEYS: Final = (None, "signal", "poller", "turn")
_WAITER_KEYS: Final = ("poller", "starving")
_WAITER_ARGS: Final = tuple(str(ms).encode() for ms in (POLLER_MS, STARVING_MS, PARK_MS))
"""Constant arguments, encoded once rather than on every call."""

ONE_TRY: Final = "0"
FIRST_WAIT: Final = "3"
"""A waiter's first try: it may register as a waiter, and holds no waiter's role yet."""
WAITER: Final = "1"
STARVING: Final = "2"


class Acquired(NamedTuple):
    """The outcome of one acquire attempt (a tuple: this is on every lock's path)."""

    ok: bool
    token: int  # the fencing token when ok
    retry_ms: int  # the holder's remaining lease when not ok (-1: no expiry, -2: gone/reserved)
    poll: bool = False  # not ok, and this waiter is to retry within POLL_S
    parked: bool = False  # not ok: the starving waiter, to block on its turn list


def _int(value: Any) -> int:
    return int(value)


def acquire(keys: KeySpace, key: str, owner: str, ttl_ms: int, mode: str = ONE_TRY) -> Op[Acquired]:
    """One acquire attempt (``SET NX PX`` plus the fence counter, in one script); ``mode`` says
    whether a waiter makes it (:data:`FIRST_WAIT`, :data:`WAITER`, :data:`STARVING`)."""
    rkeys = keys.family(key, _ACQUIRE_KEYS)
    # A single try never reads the waiters' leases: two arguments fewer to send and parse.
    args = (owner, ttl_ms, mode) if mode == ONE_TRY else (owner, ttl_ms, mode, *_WAITER_ARGS)
    reply = yield Eval(scripts.LOCK_ACQUIRE, rkeys, args)
    if reply[0] == 1:
        return Acquired(True, _int(reply[1]), 0)
    return Acquired(False, 0, _int(reply[1]), reply[2] == 1, reply[2] == 2)


def extend(keys: KeySpace, key: str, owner: str, ttl_ms: int) -> Op[bool]:
    """Reset the lease to ``ttl_ms`` if ``owner`` still holds it."""
    reply = yield Eval(scripts.LOCK_EXTEND, (keys.key(key),), (owner, ttl_ms))
    return bool(reply == 1)


def release(keys: KeySpace, key: str, owner: str) -> Op[bool]:
    """Delete the lock if ``owner`` holds it, waking one waiter."""
    rkeys = keys.family(key, _RELEASE_KEYS)
    reply = yield Eval(scripts.LOCK_RELEASE, rkeys, (owner, SIGNAL_TTL_MS))
    return bool(reply == 1)


def force_release(keys: KeySpace, key: str) -> Op[bool]:
    """Delete the lock whoever holds it, waking one waiter."""
    rkeys = keys.family(key, _RELEASE_KEYS)
    reply = yield Eval(scripts.LOCK_FORCE_RELEASE, rkeys, (SIGNAL_TTL_MS,))
    return bool(reply == 1)


def remaining(keys: KeySpace, key: str, owner: str) -> Op[int]:
    """The lease's remaining ms if ``owner`` holds it, else ``-1``."""
    reply = yield Eval(scripts.LOCK_OWNED, (keys.key(key),), (owner,))
    return _int(reply)


def acquire_waiting(
    keys: KeySpace, key: str, owner: str, ttl_ms: int, wait_ms: int | None, max_block_s: float
) -> Op[int]:
    """Acquire, waiting up to ``wait_ms`` (``None``: forever) for a release or an expiry."""
    result = yield from acquire(keys, key, owner, ttl_ms, ONE_TRY if wait_ms == 0 else FIRST_WAIT)
    if result.ok or wait_ms == 0:
        return _done(result, key, wait_ms)
    started = yield Clock()
    deadline = None if wait_ms is None else started + wait_ms / 1000
    signal, turn = keys.key(key, "signal"), keys.key(key, "turn")
    while True:
        block = _wait_seconds(result, max_block_s)
        if deadline is not None:
            left = deadline - (yield Clock())
            if left <= 0:
                yield from _give_up(keys, key, owner, wait_ms)
            block = min(block, left)
        if block <= _LOCAL_WAIT_S:
            # Redis times out a blocked client only when its event loop wakes (every 100 ms at
            # the default hz when idle), so a short wait is a local sleep, then a retry.
            yield Sleep(block)
            woke = None
        else:
            woke = yield Call(("BLPOP", turn if result.parked else signal, round(block, 3)))
        now = yield Clock()
        result = yield from acquire(
            keys, key, owner, ttl_ms, STARVING if now - started >= STARVE_S else WAITER
        )
        if result.ok:
            return result.token
        if woke is None and deadline is not None and (yield Clock()) >= deadline:
            yield from _give_up(keys, key, owner, wait_ms)


def abandon(keys: KeySpace, key: str, owner: str) -> Op[None]:
    """Leave the waiters of ``key``: drop ``owner``'s polling role and reserved turn, if any."""
    yield Eval(scripts.LOCK_ABANDON, keys.family(key, _WAITER_KEYS), (owner,))


def _give_up(keys: KeySpace, key: str, owner: str, wait_ms: int | None) -> Op[NoReturn]:
    """Leave the waiters, then raise the timeout."""
    yield from abandon(keys, key, owner)
    raise LockTimeoutError(key, wait_ms)


def _wait_seconds(result: Acquired, max_block_s: float) -> float:
    """How long a waiter waits after the failed attempt ``result`` before it retries."""
    block = _block_seconds(result.retry_ms, max_block_s)
    if result.parked:
        return min(block, PARK_S)
    if result.poll:
        return min(block, POLL_S)
    # Woken by a release, or by this: if the poller died, its role lapses (POLLER_MS) and the
    # next retry here takes it over.
    return min(block, WAITER_BLOCK_S)


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
