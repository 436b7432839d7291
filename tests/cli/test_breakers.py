"""``breakers``: name, state, failures, opened-at and retry-after of every shared breaker."""

from __future__ import annotations

from goscope_redis import CircuitBreakerState
from tests.cli.conftest import table


def test_breakers_json_shows_state_failures_opened_at_and_retry_after(cli, seeded, other_adapter):
    for _ in range(3):
        seeded.record_failure("payments", 3)
    seeded.record_failure("search", 5)
    other_adapter.record_failure("elsewhere", 1)
    stored = seeded.get_state("payments")
    result = cli("breakers", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in result.json()}
    assert set(rows) == {"payments", "search"}
    payments = rows["payments"]
    assert payments["state"] == "open" and payments["failures"] == 3
    assert payments["opened_at"] == stored.opened_at
    assert 20_000 < payments["retry_after_ms"] <= 30_000
    search = rows["search"]
    assert search["state"] == "closed" and search["failures"] == 1
    assert search["opened_at"] is None and search["retry_after_ms"] is None


def test_breakers_retry_after_follows_the_given_reset_timeout(cli, seeded):
    seeded.record_failure("payments", 1)
    result = cli("breakers", "--json", "--reset-timeout", "120000")
    assert 110_000 < result.json()[0]["retry_after_ms"] <= 120_000


def test_breakers_retry_after_is_zero_once_the_reset_timeout_has_passed(cli, seeded):
    now = seeded.client.time()[0] * 1000
    seeded.set_state("payments", CircuitBreakerState("open", 5, opened_at=now - 60_000))
    assert cli("breakers", "--json").json()[0]["retry_after_ms"] == 0


def test_breakers_table_shows_half_open_without_retry_after(cli, seeded):
    seeded.set_state("payments", CircuitBreakerState("half-open", 2))
    result = cli("breakers")
    assert result.code == 0
    header, row = table(result.out)
    assert header == ["NAME", "STATE", "FAILURES", "OPENED-AT", "RETRY-AFTER"]
    assert row[:3] == ["payments", "half-open", "2"]
    assert row[3].endswith("Z") and row[4] == "-"


def test_breakers_without_any_says_so(cli):
    assert "No circuit breakers" in cli("breakers").out
