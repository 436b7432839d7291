"""A lock holder frozen (SIGSTOP) past its TTL: it loses the lock, and fencing stops its write."""

from __future__ import annotations

import time

import pytest

from goscope_redis import RedisAdapter
from tests.faults import targets
from tests.faults.children import Child

TTL_S = 1.0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_paused_holder_loses_the_lock_and_its_fenced_write_is_rejected(
    fault_server, store, prefix, mode
):
    child = Child(targets.hold_lock_and_write, fault_server.url, prefix, store.url, store.key, mode)
    adapter = RedisAdapter.from_url(fault_server.url, prefix)
    try:
        first_token = child.expect("acquired")
        child.stop()
        stopped = time.monotonic()
        with adapter.lock("job", ttl=10_000, wait=10_000) as second:
            # The frozen holder cannot renew: its lease runs out and a waiter takes over.
            assert time.monotonic() - stopped < TTL_S + 2.0
            assert second.fencing_token > first_token
            assert store.write(second.fencing_token, "second holder")
            child.cont()
            child.go.set()
            outcome = child.expect("done")
            assert outcome == {
                "lost_seen": True,  # auto-extension reported the lost lease ...
                "accepted": False,  # ... the storage refused its stale token ...
                "valid": False,
                "error": "LockLostError",  # ... and leaving the block raised
            }
            assert second.is_valid()  # the first holder's exit released nothing of ours
        assert store.read() == (second.fencing_token, "second holder")
    finally:
        child.close()
        adapter.disconnect()
