"""One background thread per sync adapter that extends every auto-extended lease.

Starting (and joining) a thread per ``lock()`` costs more than the lock's two round trips, so
leases are kept in a heap ordered by their next due time and a single daemon thread extends
each at a third of its TTL. The thread is started lazily and rebuilt after ``fork``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.exceptions import RedisError

logger = logging.getLogger("goscope_redis")

_SLACK_S = 0.005
"""How late a renewal may run (after a third of its TTL) so the thread wakes in batches."""
_COMPACT_MIN = 1024


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

    def __init__(self, handle: Renewable, on_lost: Callable[[Any], Any] | None) -> None:
        self.handle = handle
        self.on_lost = on_lost
        self.cancelled = False
        self.valid_until = time.monotonic() + handle.ttl / 1000

    def cancel(self) -> None:
        """Stop renewing; a renewal already in flight is then ignored."""
        self.cancelled = True


class SyncRenewer:
    """Extends registered leases from one daemon thread."""

    def __init__(self) -> None:
        self._init()

    def _init(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Lease]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._compact_at = _COMPACT_MIN

    def add(self, handle: Renewable, on_lost: Callable[[Any], Any] | None) -> Lease:
        """Start renewing ``handle``; the first extension is due after a third of its TTL."""
        if self._pid != os.getpid():
            self._init()  # forked: the parent's thread does not exist here
        lease = Lease(handle, on_lost)
        with self._cond:
            heap = self._heap
            if len(heap) >= self._compact_at:
                self._compact()
            earliest = heap[0][0] if heap else None
            due = self._push(lease)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="goscope-renew", daemon=True)
                self._thread.start()
            elif earliest is None or due < earliest:
                # Wake the thread only when its wait must get shorter. Waking it on every add
                # cost a thread switch per lock() (~17 µs, more than a quarter of the lock).
                self._cond.notify()
        return lease

    def _compact(self) -> None:
        # Released leases stay in the heap until due (dropping them early would empty the
        # heap and make the next add wake the thread); rebuild it when it has doubled.
        self._heap[:] = [entry for entry in self._heap if not entry[2].cancelled]
        heapq.heapify(self._heap)
        self._compact_at = max(_COMPACT_MIN, 2 * len(self._heap))

    def _push(self, lease: Lease) -> float:
        due = time.monotonic() + lease.handle.ttl / 3000
        heapq.heappush(self._heap, (due, next(self._seq), lease))
        return due

    def _next_due(self) -> Lease:
        with self._cond:
            heap = self._heap
            while True:
                if not heap:
                    self._cond.wait()
                    continue
                delay = heap[0][0] - time.monotonic()
                if delay > 0:
                    # Sleep a little past the due time, so one wake-up takes every lease that
                    # fell due meanwhile (under load, one per lock() call) in a single pass.
                    self._cond.wait(delay + _SLACK_S)
                    continue
                lease = heapq.heappop(heap)[2]
                if not lease.cancelled:
                    return lease

    def _run(self) -> None:
        while True:
            lease = self._next_due()
            if self._renew(lease):
                with self._cond:
                    self._push(lease)

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
