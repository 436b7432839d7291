"""A process SIGKILLed mid-operation: no ``finally`` runs, yet every lease frees within its TTL.

Covered: holding a lock, inside an ``@idempotent`` call, inside a half-open probe, and inside a
checkpointed scope task (which a new run resumes from its latest checkpoint).
"""

from __future__ import annotations

import time

import pytest

from goscope_redis import CircuitOpenError, RedisAdapter, scope
from tests.faults import targets
from tests.faults.children import Child

LEASE_MS = 1_000
SLACK_S = 1.5  # a loaded 2-core machine


@pytest.fixture
def adapter(fault_server, prefix):
    made = RedisAdapter.from_url(fault_server.url, prefix)
    yield made
    made.disconnect()


def test_lock_of_a_killed_holder_frees_within_its_ttl(fault_server, prefix, adapter):
    child = Child(targets.hold_lock_forever, fault_server.url, prefix, LEASE_MS)
    try:
        token = child.expect("acquired")
        child.kill()
        killed = time.monotonic()
        assert adapter.acquire("job", 5_000) is None  # the lease outlives its holder ...
        with adapter.lock("job", 5_000, wait=10_000) as handle:  # ... but not by more than TTL
            waited = time.monotonic() - killed
            assert handle.fencing_token > token
        assert waited < LEASE_MS / 1000 + SLACK_S
    finally:
        child.close()


def test_claim_of_a_killed_idempotent_call_frees_within_its_lease(fault_server, prefix, adapter):
    child = Child(targets.idempotent_request_forever, fault_server.url, prefix, LEASE_MS)
    idem = adapter.idempotency
    try:
        child.expect("running")
        time.sleep(LEASE_MS / 1000 * 1.2)  # the child's keep-alive extended the claim meanwhile
        assert idem.begin("charge:9").status == "in_progress"
        child.kill()
        killed = time.monotonic()
        while (claim := idem.begin("charge:9")).status == "in_progress":
            assert time.monotonic() - killed < LEASE_MS / 1000 + SLACK_S, "claim outlived lease"
            time.sleep(0.05)
        assert claim.status == "started"  # the retry runs the request now
        assert idem.complete(claim, "charged by the retry")
        assert idem.get("charge:9").value == "charged by the retry"
    finally:
        child.close()


def test_half_open_probe_of_a_killed_process_frees_within_its_lease(fault_server, prefix, adapter):
    breaker = adapter.circuit_breaker(
        "payments", failure_threshold=1, reset_timeout=200, probe_lease=LEASE_MS
    )
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)  # open
    time.sleep(0.3)  # past reset_timeout: the next call becomes the (only) probe
    child = Child(targets.probe_forever, fault_server.url, prefix, LEASE_MS)
    try:
        child.expect("probing")
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: "second probe")  # half-open admits one probe only
        child.kill()
        killed = time.monotonic()
        while True:
            try:
                assert breaker.call(lambda: "probe ok") == "probe ok"
                break
            except CircuitOpenError:
                assert time.monotonic() - killed < LEASE_MS / 1000 + SLACK_S, "probe lease stuck"
                time.sleep(0.05)
        assert breaker.state().state == "closed"
    finally:
        child.close()


def test_killed_checkpointed_task_resumes_from_its_latest_checkpoint(fault_server, prefix, adapter):
    child = Child(targets.checkpointed_import, fault_server.url, prefix)
    try:
        assert child.expect("started") == {"from": 0, "resumed": False}
        for row in range(1, 6):
            assert child.expect("saved") == row
        child.kill()
    finally:
        child.close()
    latest = adapter.load_latest_checkpoint("import:2026-11")
    assert latest is not None and latest.data >= 5  # a save may have landed before the kill
    events: list[tuple[str, object]] = []

    class Recorder:
        def put(self, event: tuple[str, object]) -> None:
            events.append(event)

    with scope(persistence=adapter, name="importer") as s:
        done = s.task(targets.import_rows, Recorder(), 0, id="import:2026-11", checkpoint=True)
    assert events[0] == ("started", {"from": latest.data, "resumed": True})
    assert done == list(range(latest.data, targets.ROWS))  # nothing before the checkpoint redone
    assert adapter.load_latest_checkpoint("import:2026-11") is None  # success cleans up
