"""Checkpoint contract: runs on {sync, async} x {real redis-server, fakeredis}."""

from __future__ import annotations

import pytest

from goscope_redis import Checkpoint, SerializationError, SignedPickleSerializer


def cp(task: str, seq: int, data: object = None, **kw: object) -> Checkpoint:
    return Checkpoint(task, seq, {"seq": seq} if data is None else data, **kw)


def test_save_returns_checkpoint_with_id_and_stores_data_and_index(adapter, raw, prefix):
    saved = adapter.save_checkpoint(cp("import", 3, progress=30.0))
    assert saved.id == "import:3" and saved.sequence == 3 and saved.progress == 30.0
    assert raw.exists(f"{prefix}checkpoint:{{import}}:3")
    assert raw.zrange(f"{prefix}checkpoint:{{import}}:index", 0, -1, withscores=True) == [
        (b"3", 3.0)
    ]


def test_load_latest_orders_numerically_past_9_to_10(adapter):
    for seq in range(1, 12):
        adapter.save_checkpoint(cp("job", seq))
    latest = adapter.load_latest_checkpoint("job")
    assert latest.sequence == 11 and latest.data == {"seq": 11}
    assert [c.sequence for c in adapter.list_checkpoints("job")] == list(range(1, 12))


def test_load_latest_of_unknown_task_is_none(adapter):
    assert adapter.load_latest_checkpoint("nope") is None
    assert adapter.list_checkpoints("nope") == []


def test_all_fields_round_trip(adapter):
    original = Checkpoint(
        "job", 4, {"rows": [1, 2]}, progress=42.5, timestamp=123, estimated_time_remaining=9_000
    )
    saved = adapter.save_checkpoint(original)
    loaded = adapter.load_checkpoint(saved.id)
    assert loaded == saved
    assert loaded.timestamp == 123 and loaded.estimated_time_remaining == 9_000


def test_stale_save_is_rejected_and_writes_nothing(adapter, raw, prefix):
    adapter.save_checkpoint(cp("job", 10))
    with pytest.raises(ValueError, match=r"'job'.*sequence 9 is older.*latest 10"):
        adapter.save_checkpoint(cp("job", 9))
    assert not raw.exists(f"{prefix}checkpoint:{{job}}:9")
    assert raw.zcard(f"{prefix}checkpoint:{{job}}:index") == 1
    assert adapter.load_latest_checkpoint("job").sequence == 10


def test_equal_sequence_overwrites(adapter):
    adapter.save_checkpoint(cp("job", 5, {"try": 1}))
    adapter.save_checkpoint(cp("job", 5, {"try": 2}))
    assert adapter.load_latest_checkpoint("job").data == {"try": 2}
    assert len(adapter.list_checkpoints("job")) == 1


def test_cleanup_keeps_newest_n(adapter, raw, prefix):
    for seq in range(1, 13):
        adapter.save_checkpoint(cp("job", seq))
    assert adapter.cleanup_checkpoints("job", 3) == 9
    assert [c.sequence for c in adapter.list_checkpoints("job")] == [10, 11, 12]
    assert not raw.exists(f"{prefix}checkpoint:{{job}}:9")
    assert raw.zcard(f"{prefix}checkpoint:{{job}}:index") == 3
    assert adapter.cleanup_checkpoints("job", 3) == 0


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2"])
def test_cleanup_with_bad_keep_raises(adapter, bad):
    adapter.save_checkpoint(cp("job", 1))
    with pytest.raises(ValueError, match="keep"):
        adapter.cleanup_checkpoints("job", bad)
    assert len(adapter.list_checkpoints("job")) == 1


def test_delete_checkpoints_removes_data_and_index(adapter, raw, prefix):
    for seq in range(3):
        adapter.save_checkpoint(cp("job", seq))
    assert adapter.delete_checkpoints("job") == 3
    assert raw.keys(f"{prefix}*") == []
    assert adapter.delete_checkpoints("job") == 0


@pytest.mark.parametrize("task", ["plain", "a:1", "x:{y}:z", "}{", "50%}", "ünï"])
def test_ids_round_trip_for_awkward_task_ids(adapter, task):
    saved = adapter.save_checkpoint(cp(task, 12))
    loaded = adapter.load_checkpoint(saved.id)
    assert loaded is not None and loaded.task_id == task and loaded.sequence == 12
    assert adapter.load_latest_checkpoint(task).id == saved.id


def test_tasks_a_and_a_colon_1_are_isolated(adapter, raw, prefix):
    adapter.save_checkpoint(cp("a", 1, "a-data"))
    for seq in range(3):
        adapter.save_checkpoint(cp("a:1", seq, "a1-data"))
    assert [(c.task_id, c.sequence) for c in adapter.list_checkpoints("a")] == [("a", 1)]
    assert adapter.load_checkpoint("a:1").data == "a-data"  # task 'a', sequence 1
    assert adapter.load_checkpoint("a:1:1").data == "a1-data"  # task 'a:1', sequence 1
    assert adapter.delete_checkpoints("a:1") == 3
    assert adapter.load_latest_checkpoint("a").data == "a-data"
    assert raw.type(f"{prefix}checkpoint:{{a}}:index") == b"zset"


def test_missing_id_loads_none_and_malformed_id_raises(adapter):
    assert adapter.load_checkpoint("job:7") is None
    for bad in ["job", "job:", ":3", "job:-1", "job:07", "job:x"]:
        with pytest.raises(ValueError, match="not a checkpoint id"):
            adapter.load_checkpoint(bad)


@pytest.mark.parametrize("progress", [-0.1, 100.5, float("nan"), True, "50"])
def test_progress_outside_0_to_100_raises_and_writes_nothing(adapter, raw, prefix, progress):
    with pytest.raises(ValueError, match="progress"):
        adapter.save_checkpoint(cp("job", 1, progress=progress))
    assert raw.keys(f"{prefix}*") == []


@pytest.mark.parametrize("seq", [-1, True, 1.0, 2**53])
def test_bad_sequence_raises(adapter, seq):
    with pytest.raises(ValueError, match="sequence"):
        adapter.save_checkpoint(cp("job", seq))


def test_id_that_does_not_match_task_and_sequence_is_rejected(adapter):
    with pytest.raises(ValueError, match="derived"):
        adapter.save_checkpoint(cp("job", 1, id="custom-id"))
    assert adapter.save_checkpoint(cp("job", 1, id="job:1")).id == "job:1"


def test_unserialisable_data_raises_and_writes_nothing(adapter, raw, prefix):
    with pytest.raises(SerializationError):
        adapter.save_checkpoint(cp("job", 1, object()))
    assert raw.keys(f"{prefix}*") == []


def test_ttl_applies_to_data_and_index(adapter, raw, prefix):
    adapter.save_checkpoint(cp("job", 1), ttl=5_000)
    adapter.save_checkpoint(cp("job", 2), ttl=250)  # room for a stalled CI machine
    assert 0 < raw.pttl(f"{prefix}checkpoint:{{job}}:2") <= 250
    assert 4_000 < raw.pttl(f"{prefix}checkpoint:{{job}}:index") <= 5_000  # outlives every cp
    adapter.sleep(0.4)
    assert adapter.load_latest_checkpoint("job").sequence == 1  # skips the expired entry
    assert adapter.load_checkpoint("job:2") is None


def test_short_ttl_expires_the_whole_task(adapter, raw, prefix):
    adapter.save_checkpoint(cp("job", 1), ttl=100)
    adapter.save_checkpoint(cp("job", 2), ttl=100)
    adapter.sleep(0.3)
    assert adapter.load_latest_checkpoint("job") is None
    assert raw.keys(f"{prefix}*") == []


def test_save_without_ttl_makes_index_persistent(adapter, raw, prefix):
    adapter.save_checkpoint(cp("job", 1), ttl=1_000)
    adapter.save_checkpoint(cp("job", 2))
    assert raw.pttl(f"{prefix}checkpoint:{{job}}:index") == -1
    assert raw.pttl(f"{prefix}checkpoint:{{job}}:2") == -1


def test_cleanup_drops_index_entries_of_expired_checkpoints(adapter, raw, prefix):
    adapter.save_checkpoint(cp("job", 1))
    adapter.save_checkpoint(cp("job", 2), ttl=50)
    adapter.sleep(0.2)
    assert adapter.cleanup_checkpoints("job", 5) == 0
    assert raw.zrange(f"{prefix}checkpoint:{{job}}:index", 0, -1) == [b"1"]


def test_checkpoints_use_the_adapters_serializer(factory, prefix):
    pickled = factory(prefix, serializer=SignedPickleSerializer("s3cret"))
    pickled.save_checkpoint(cp("job", 1, {1, 2, 3}))
    assert pickled.load_latest_checkpoint("job").data == {1, 2, 3}
    tampered = factory(prefix, serializer=SignedPickleSerializer("other"))
    assert tampered.load_latest_checkpoint("job") is None  # fails its signature: reads as absent
