"""``status``: the server, and counts of logical items per kind (companion keys not counted)."""

from __future__ import annotations

from goscope_redis import Checkpoint, RedisAdapter
from tests.cli.conftest import table


def _seed(adapter: RedisAdapter) -> None:
    first = adapter.acquire("orders:1", 30_000)
    assert first is not None and first.release()  # leaves :fence and :signal companions
    adapter.acquire("orders:2", 30_000)
    adapter.acquire("orders:3", 30_000)
    for n in range(3):
        adapter.set(f"user:{n}", {"n": n})
    adapter.record_failure("payments", 1)  # open
    prefix = adapter.key_prefix
    adapter.client.zadd(f"{prefix}circuit:{{payments}}:probes", {"probe": 1})
    adapter.idempotency.set("charge:1", "ok", ttl=60_000)
    adapter.idempotency.begin("charge:2")
    for seq in range(3):  # three data keys and one index: one task
        adapter.save_checkpoint(Checkpoint("import:1", seq, {}, progress=seq * 10))


EXPECTED = {
    "locks": 2,
    "cache_entries": 3,
    "breakers": 1,
    "idempotency_records": 2,
    "checkpoint_tasks": 1,
}


def test_status_json_counts_logical_items_and_reports_the_server(cli, seeded, other_adapter):
    _seed(seeded)
    _seed(other_adapter)  # another prefix: never counted
    result = cli("status", "--json")
    assert result.code == 0 and result.err == ""
    data = result.json()
    assert data["counts"] == EXPECTED
    assert data["prefix"] == seeded.key_prefix
    assert data["server"]["version"] == seeded.client.info("server")["redis_version"]
    assert data["server"]["used_memory"] > 0


def test_status_table_shows_version_memory_and_counts(cli, seeded, redis_server):
    _seed(seeded)
    result = cli("status")
    assert result.code == 0
    rows = dict(table(result.out))
    version = seeded.client.info("server")["redis_version"]
    assert rows["server"] == f"redis {version} at {redis_server.url}"
    assert "bytes" in rows["used memory"]
    assert rows["locks"] == "2" and rows["cache entries"] == "3" and rows["breakers"] == "1"
    assert rows["idempotency records"] == "2" and rows["checkpoint tasks"] == "1"


def test_status_of_an_empty_prefix_counts_zero(cli):
    result = cli("status", "--json")
    assert result.code == 0
    assert set(result.json()["counts"].values()) == {0}
