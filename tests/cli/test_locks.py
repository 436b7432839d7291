"""``locks``: held locks with owner, remaining lease and fencing token."""

from __future__ import annotations

from tests.cli.conftest import table


def test_locks_json_lists_held_locks_with_owner_ttl_and_fencing_token(cli, seeded, other_adapter):
    first = seeded.acquire("orders:42", 30_000, owner="worker-1")
    assert first is not None and first.release()
    handle = seeded.acquire("orders:42", 30_000, owner="worker-2")
    other = seeded.acquire("orders:7", 60_000, owner="worker-3")
    seeded.acquire("released", 60_000, owner="gone").release()
    other_adapter.acquire("orders:99", 30_000)
    result = cli("locks", "--json")
    assert result.code == 0
    rows = {row["key"]: row for row in result.json()}
    assert set(rows) == {"orders:42", "orders:7"}
    assert rows["orders:42"]["owner"] == "worker-2"
    assert rows["orders:42"]["fencing_token"] == handle.fencing_token > first.fencing_token
    assert 20_000 < rows["orders:42"]["ttl_ms"] <= 30_000
    assert 50_000 < rows["orders:7"]["ttl_ms"] <= 60_000
    assert rows["orders:7"]["fencing_token"] == other.fencing_token


def test_locks_table_has_aligned_columns(cli, seeded):
    handle = seeded.acquire("orders:{weird}*", 30_000, owner="worker-1")
    result = cli("locks")
    assert result.code == 0
    header, row = table(result.out)
    assert header == ["KEY", "OWNER", "TTL", "FENCE"]
    assert (
        row[0] == "orders:{weird}*" and row[1] == "worker-1" and row[3] == str(handle.fencing_token)
    )
    assert row[2].endswith("s")
    lines = result.out.splitlines()
    assert lines[0].index("OWNER") == lines[1].index("worker-1")


def test_locks_without_any_says_so(cli, seeded):
    result = cli("locks")
    assert result.code == 0 and "No locks held" in result.out
    assert cli("locks", "--json").json() == []
