"""``idempotency``: status, age and expiry of every record; ``--key`` shows one in full."""

from __future__ import annotations

from tests.cli.conftest import table


def _seed(adapter):
    idem = adapter.idempotency
    claim = idem.begin("charge:1", fingerprint="sha256:abc")
    idem.complete(claim, {"charged": 42}, ttl=60_000)
    idem.begin("charge:2", lease=30_000)
    idem.set("charge:3", "card declined", error=True)  # no expiry


def test_idempotency_json_lists_status_age_and_expiry(cli, seeded, other_adapter):
    _seed(seeded)
    other_adapter.idempotency.begin("charge:9")
    result = cli("idempotency", "--json")
    assert result.code == 0
    rows = {row["key"]: row for row in result.json()}
    assert set(rows) == {"charge:1", "charge:2", "charge:3"}
    assert rows["charge:1"]["status"] == "completed"
    assert 50_000 < rows["charge:1"]["expires_in_ms"] <= 60_000
    assert rows["charge:2"]["status"] == "in_progress"
    assert 20_000 < rows["charge:2"]["expires_in_ms"] <= 30_000
    assert rows["charge:3"]["status"] == "failed"
    assert rows["charge:3"]["expires_in_ms"] is None and rows["charge:3"]["expires_at"] is None
    assert all(0 <= row["age_ms"] < 10_000 for row in rows.values())
    assert "value" not in rows["charge:1"]  # listings never dump stored results


def test_idempotency_age_is_measured_on_the_redis_clock(cli, seeded, prefix):
    seeded.idempotency.set("charge:1", "ok", ttl=60_000)
    sec, _usec = seeded.client.time()
    seeded.client.hset(f"{prefix}idempotency:{{charge:1}}", "t", sec * 1000 - 90_000)
    age = cli("idempotency", "--json").json()[0]["age_ms"]
    assert 90_000 <= age < 100_000


def test_idempotency_table_shows_each_record(cli, seeded):
    _seed(seeded)
    result = cli("idempotency")
    assert result.code == 0
    header, *rows = table(result.out)
    assert header == ["KEY", "STATUS", "AGE", "EXPIRES-IN"]
    by_key = {row[0]: row for row in rows}
    assert by_key["charge:1"][1] == "completed" and by_key["charge:1"][3].endswith("s")
    assert by_key["charge:2"][1] == "in_progress"
    assert by_key["charge:3"][1:] == ["failed", by_key["charge:3"][2], "never"]


def test_idempotency_key_shows_one_record_with_its_value(cli, seeded):
    _seed(seeded)
    result = cli("idempotency", "--key", "charge:1", "--json")
    assert result.code == 0
    record = result.json()
    assert record["key"] == "charge:1" and record["status"] == "completed"
    assert record["value"] == {"charged": 42} and record["fingerprint"] == "sha256:abc"
    text = cli("idempotency", "--key", "charge:1").out
    assert dict(table(text))["value"] == '{"charged": 42}'


def test_idempotency_key_sizes_a_value_that_is_not_json(cli, seeded, prefix):
    seeded.client.hset(f"{prefix}idempotency:{{blob}}", mapping={"s": "ok", "v": b"\x80\x04."})
    record = cli("idempotency", "--key", "blob", "--json").json()
    assert record["value_bytes"] == 3 and "value" not in record
    assert "<3 bytes, not JSON>" in cli("idempotency", "--key", "blob").out


def test_idempotency_unknown_key_is_a_one_line_error_with_exit_code_1(cli, seeded):
    result = cli("idempotency", "--key", "missing")
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and "no idempotency record for key 'missing'" in result.err
