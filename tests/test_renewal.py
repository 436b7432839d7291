"""The sync lease renewer (goscope_redis/renewal.py), with stand-in leases: no Redis needed.

Each stand-in counts its extensions. The margins are generous (renewals are due every third of
a TTL; the checks only need one well before the TTL ends), so a slow machine passes too.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from goscope_redis.renewal import SyncRenewer


class Held:
    """A lease that stays ours (``extend`` True) until told otherwise."""

    def __init__(self, ttl: int, ours: bool = True) -> None:
        self.key = "k"
        self.ttl = ttl
        self.ours = ours
        self.extended = 0
        self.lost_with: list[Any] = []
        self.event = threading.Event()

    def extend(self) -> bool:
        self.extended += 1
        self.event.set()
        return self.ours

    def _mark_lost(self, on_lost: Any) -> None:
        self.lost_with.append(on_lost)


def _wait_until(check: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_a_live_lease_is_extended_every_third_of_its_ttl():
    renewer, held = SyncRenewer(), Held(ttl=300)
    lease = renewer.add(held, None)
    assert _wait_until(lambda: held.extended >= 3)  # due at ~100, ~200, ~300 ms
    lease.cancel()


def test_a_cancelled_lease_is_never_extended():
    renewer = SyncRenewer()
    keeper = Held(ttl=200)
    kept = renewer.add(keeper, None)
    released = [Held(ttl=150) for _ in range(500)]
    for held in released:
        renewer.add(held, None).cancel()
    assert _wait_until(lambda: keeper.extended >= 3)  # well past every released one's due
    assert sum(h.extended for h in released) == 0
    kept.cancel()


def test_a_short_lease_added_after_a_long_one_is_renewed_on_time():
    # The thread sleeps until the long lease is due (20 s); the short one must wake it.
    renewer, long_, short = SyncRenewer(), Held(ttl=60_000), Held(ttl=300)
    renewer.add(long_, None)
    time.sleep(0.05)  # the thread is asleep by now
    renewer.add(short, None)
    assert short.event.wait(1.0), "the short lease was not renewed before its TTL ended"
    assert long_.extended == 0


def test_a_lease_that_is_no_longer_ours_is_reported_lost_once():
    renewer, held = SyncRenewer(), Held(ttl=150, ours=False)
    marker = object()
    renewer.add(held, marker)
    assert _wait_until(lambda: held.lost_with == [marker])
    time.sleep(0.2)
    assert held.extended == 1 and held.lost_with == [marker]


def test_a_forked_child_renews_with_its_own_thread():
    renewer = SyncRenewer()
    renewer.add(Held(ttl=60_000), None)  # the parent's thread exists now
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            held = Held(ttl=300)
            renewer.add(held, None)
            code = 0 if held.event.wait(2.0) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_short_held_leases_do_not_wake_the_thread_each():
    # Under load most leases end long before they are due: registering one must not cost a
    # thread switch (counted: how often add() wakes the thread).
    renewer = SyncRenewer()
    wakes = []
    renewer.add(Held(ttl=10_000), None).cancel()  # starts the thread
    time.sleep(0.05)
    notify = renewer._cond.notify
    renewer._cond.notify = lambda n=1: (wakes.append(n), notify(n))  # type: ignore[method-assign]
    for _ in range(500):
        renewer.add(Held(ttl=10_000), None).cancel()
    assert len(wakes) <= 1


def test_released_leases_are_not_kept_until_the_thread_wakes():
    # The thread looks at new leases about once per third of a TTL (here 3 s); under a steady
    # load of short-held locks, add() itself must drop the released ones, or every lease and
    # lock handle of those seconds stays alive for the garbage collector to walk.
    renewer = SyncRenewer()
    renewer.add(Held(ttl=10_000), None).cancel()  # the thread now sleeps for ~3 s
    keeper = Held(ttl=900)  # live throughout: it must survive every compaction
    kept = renewer.add(keeper, None)
    for _ in range(20_000):
        renewer.add(Held(ttl=10_000), None).cancel()
    assert len(renewer._fresh) <= 200
    assert _wait_until(lambda: keeper.extended >= 1)  # due at ~300 ms: renewed all the same
    kept.cancel()
