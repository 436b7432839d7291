"""``checkpoints``: each task's latest sequence and progress bar."""

from __future__ import annotations

from goscope_redis import Checkpoint, RedisAdapter, SignedPickleSerializer
from tests.cli.conftest import table


def _seed(adapter):
    for seq, progress in enumerate((10.0, 40.0, 75.0)):
        adapter.save_checkpoint(Checkpoint("import:1", seq, {"row": seq}, progress=progress))
    adapter.save_checkpoint(Checkpoint("import:{2}", 12, {}, progress=100.0))


def test_checkpoints_json_gives_latest_sequence_and_progress_per_task(cli, seeded, other_adapter):
    _seed(seeded)
    other_adapter.save_checkpoint(Checkpoint("elsewhere", 1, {}))
    result = cli("checkpoints", "--json")
    assert result.code == 0
    rows = {row["task"]: row for row in result.json()}
    assert set(rows) == {"import:1", "import:{2}"}
    assert rows["import:1"]["sequence"] == 2 and rows["import:1"]["progress"] == 75.0
    assert rows["import:{2}"]["sequence"] == 12 and rows["import:{2}"]["progress"] == 100.0
    assert rows["import:1"]["timestamp"] > 0


def test_checkpoints_table_draws_a_progress_bar(cli, seeded):
    _seed(seeded)
    result = cli("checkpoints")
    header, *rows = table(result.out)
    assert header == ["TASK", "SEQ", "PROGRESS", "UPDATED"]
    by_task = {row[0]: row for row in rows}
    assert by_task["import:1"][1:3] == ["2", "[###############-----] 75.0%"]
    assert by_task["import:{2}"][2] == "[####################] 100.0%"
    assert by_task["import:1"][3].endswith(" ago")


def test_checkpoints_of_another_serializer_show_the_sequence_from_the_index(
    cli, seeded, redis_server, prefix
):
    pickled = RedisAdapter(seeded.client, prefix, serializer=SignedPickleSerializer("secret"))
    pickled.save_checkpoint(Checkpoint("import:p", 4, {"row": 4}, progress=50.0))
    row = cli("checkpoints", "--json").json()[0]
    assert row["task"] == "import:p" and row["sequence"] == 4 and row["progress"] is None
    assert table(cli("checkpoints").out)[1][2] == "?"


def test_checkpoints_without_any_say_so(cli):
    assert "No checkpointed tasks" in cli("checkpoints").out
