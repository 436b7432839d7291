"""One background thread per sync adapter that extends every auto-extended lease.

Starting (and joining) a thread per ``lock()`` costs more than the lock's two round trips, so a
single daemon thread extends each lease at a third of its TTL. The thread is started lazily and
rebuilt after ``fork``.

Most leases end long before their first renewal (a lock held for milliseconds with a TTL of
seconds), so registering one must cost next to nothing: :meth:`SyncRenewer.add` appends it to
a list of *fresh* leases and wakes the thread only if it must run sooner than planned. The
thread sorts the fresh leases out when it wakes (for the earliest one due): the released ones
are dropped in one pass, and only the live ones enter the heap it schedules renewals with.
(A heap entry per lease, pushed on every ``lock()`` and popped a third of a TTL later, cost
15k instructions per ``lock()``, now 10k, and woke the thread every 5 ms under a steady load
of locks; now it wakes about once per third of a TTL.)

Meanwhile ``add`` keeps the fresh list short itself: each time it has doubled (from
``_COMPACT_MIN``), the released leases are dropped. Otherwise, under a steady load of
short-held locks, it would hold every lease (and lock handle) of the last third of a TTL, tens
of thousands, and the garbage collector would walk them all over again: 6k of the 13k
instructions the renewer cost per ``lock()``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.exceptions import RedisError

from goscope_redis import _forks

logger = logging.getLogger("goscope_redis")

_SLACK_S = 0.005
"""How late a renewal may run (after a third of its TTL) so the thread wakes in batches."""
_COMPACT_MIN = 64
"""The fresh list's length at which ``add`` first drops the released leases from it."""


class Renewable(Protocol):
    """Anything with a lease to keep: a lock handle, an idempotency claim."""

    key: str
    ttl: int

    def extend(self) -> bool:
        """Reset the lease to ``ttl``; False when it is no longer ours."""
        ...

    def _mark_lost(self, on_lost: Any) -> None: ...


class Lease:
    """A registered lease; ``cancel()`` stops its renewal (call it before releasing)."""

    __slots__ = ("cancelled", "handle", "on_lost", "valid_until")

    def __init__(self, handle: Renewable, on_lost: Callable[[Any], Any] | None, now: float) -> None:
        self.handle = handle
        self.on_lost = on_lost
        self.cancelled = False
        self.valid_until = now + handle.ttl / 1000

    def cancel(self) -> None:
        """Stop renewing; a renewal already in flight is then ignored."""
        self.cancelled = True


class SyncRenewer:
    """Extends registered leases from one daemon thread (see the module doc)."""

    def __init__(self) -> None:
        self._init()

    def _init(self) -> None:
        self._generation = _forks.generation
        # add() takes the bare lock (a C context manager); the thread waits on the condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._fresh: list[tuple[float, Lease]] = []  # added since the thread last looked
        self._compact_at = _COMPACT_MIN
        self._heap: list[tuple[float, int, Lease]] = []  # live leases, by next due time
        self._seq = itertools.count()
        self._wake_at = math.inf  # the due time the waiting thread sleeps for; -inf: awake
        self._thread: threading.Thread | None = None

    def add(self, handle: Renewable, on_lost: Callable[[Any], Any] | None) -> Lease:
        """Start renewing ``handle``; the first extension is due after a third of its TTL."""
        if self._generation != _forks.generation:
            self._init()  # forked: the parent's thread does not exist here
        now = time.monotonic()
        lease = Lease(handle, on_lost, now)
        due = now + handle.ttl / 3000
        with self._lock:
            fresh = self._fresh
            fresh.append((due, lease))
            if len(fresh) >= self._compact_at:
                self._compact()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="goscope-renew", daemon=True)
                self._thread.start()
            elif due < self._wake_at:
                # Only when the thread must wake sooner than planned: waking it on every add
                # cost a thread switch per lock() (~17 µs, more than a quarter of the lock).
                self._cond.notify()
        return lease

    def _compact(self) -> None:
        """Drop the released fresh leases (hold the lock). The one added last is live, so it
        stays last: :meth:`_absorb` still sees when the newest lease falls due."""
        live = [entry for entry in self._fresh if not entry[1].cancelled]
        self._fresh = live
        self._compact_at = max(_COMPACT_MIN, 2 * len(live))

    def _push(self, due: float, lease: Lease) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), lease))

    def _absorb(self) -> float:
        """Move the live fresh leases into the heap (hold the lock).

        Returns when to look again even if no live lease needs it: the due time of the lease
        added last. Going to sleep for good instead would make the very next ``add`` wake the
        thread, and under load of short-held locks that is one thread switch per ``lock()``.
        """
        fresh, self._fresh = self._fresh, []
        self._compact_at = _COMPACT_MIN
        for due, lease in fresh:
            if not lease.cancelled:
                self._push(due, lease)
        return fresh[-1][0] if fresh else math.inf

    def _next_due(self) -> Lease:
        with self._cond:
            while True:
                again = self._absorb()
                heap, now = self._heap, time.monotonic()
                if heap and heap[0][0] <= now:
                    lease = heapq.heappop(heap)[2]
                    if lease.cancelled:
                        continue
                    self._wake_at = -math.inf
                    return lease
                wake = min(heap[0][0] if heap else math.inf, again if again > now else math.inf)
                # Sleep a little past the due time, so one wake-up takes every lease that
                # fell due meanwhile (under load, one per lock() call) in a single pass.
                self._wake_at = wake  # add() wakes the thread for a lease due before that
                self._cond.wait(None if wake == math.inf else wake - now + _SLACK_S)
                self._wake_at = -math.inf

    def _run(self) -> None:
        while True:
            lease = self._next_due()
            if self._renew(lease):
                due = time.monotonic() + lease.handle.ttl / 3000
                with self._cond:
                    self._push(due, lease)

    def _renew(self, lease: Lease) -> bool:
        handle = lease.handle
        try:
            ok = handle.extend()
        except RedisError as exc:
            # Keep trying while the lease may still be ours; past its end it is lost.
            logger.warning("goscope_redis: extending lock %r failed: %s", handle.key, exc)
            ok = time.monotonic() < lease.valid_until
            if ok:
                return not lease.cancelled
        except Exception:
            logger.exception("goscope_redis: extending lock %r failed", handle.key)
            ok = False
        if lease.cancelled:
            return False  # released meanwhile: a failed extend means nothing now
        if not ok:
            handle._mark_lost(lease.on_lost)
            return False
        lease.valid_until = time.monotonic() + handle.ttl / 1000
        return True
