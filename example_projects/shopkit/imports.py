"""The checkpointed import job both shops run: records, row work and progress.

``POST /imports`` stores a *record* (cache key ``import:<id>``) in state ``queued``. Every
worker process runs an importer loop that looks for unfinished records and tries to take the
lock ``import:<id>`` without waiting; the one that gets it runs the job as a scope task with
``checkpoint=True``. The job saves a checkpoint after every row (``next_row`` plus a running
checksum), so a worker killed mid-import leaves a checkpoint behind. Its lock lease then runs
out, and another worker (or the restarted one) takes the lock and continues from that row.
The final checksum equals an uninterrupted run's: no row was lost or counted twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from goscope_redis import Checkpoint

DEFAULT_ROWS = 40
DEFAULT_ROW_MS = 100
MAX_ROWS = 10_000
MAX_ROW_MS = 5_000


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A validated ``POST /imports`` body."""

    rows: int = DEFAULT_ROWS
    row_ms: int = DEFAULT_ROW_MS

    @classmethod
    def parse(cls, body: Any) -> ImportRequest:
        """Validate the JSON body; raise ``ValueError`` naming the bad field."""
        body = body if isinstance(body, dict) else {}
        rows, row_ms = body.get("rows", DEFAULT_ROWS), body.get("row_ms", DEFAULT_ROW_MS)
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
            raise ValueError(f"rows must be an int in 1..{MAX_ROWS}, got {rows!r}")
        if isinstance(row_ms, bool) or not isinstance(row_ms, int):
            raise ValueError(f"row_ms must be an int, got {row_ms!r}")
        if not 0 <= row_ms <= MAX_ROW_MS:
            raise ValueError(f"row_ms must be in 0..{MAX_ROW_MS}, got {row_ms!r}")
        return cls(rows, row_ms)


def record_key(import_id: str) -> str:
    """The cache key of the import's record."""
    return f"import:{import_id}"


def lock_name(import_id: str) -> str:
    """The lock a worker holds while it runs the import."""
    return f"import:{import_id}"


def task_id(import_id: str) -> str:
    """The checkpointed task's id."""
    return f"import:{import_id}"


def new_record(request: ImportRequest) -> dict[str, Any]:
    """A queued import."""
    return {
        "id": uuid.uuid4().hex[:10],
        "rows": request.rows,
        "row_ms": request.row_ms,
        "state": "queued",
        "runs": [],
        "created_at_ms": int(time.time() * 1000),
    }


def started(record: dict[str, Any], pid: int, from_row: int) -> dict[str, Any]:
    """The record once worker ``pid`` starts (or resumes) at ``from_row``."""
    runs = [*record["runs"], {"pid": pid, "from_row": from_row}]
    return {**record, "state": "running", "runs": runs}


def finished(record: dict[str, Any], data: dict[str, int]) -> dict[str, Any]:
    """The record of a completed import."""
    return {**record, "state": "done", "checksum": data["checksum"], "next_row": data["next_row"]}


def first_data() -> dict[str, int]:
    """Checkpoint data before the first row."""
    return {"next_row": 0, "checksum": 0}


def after_row(data: dict[str, int], row: int) -> dict[str, int]:
    """Checkpoint data once ``row`` is imported (the checksum folds every row in once)."""
    return {"next_row": row + 1, "checksum": (data["checksum"] * 31 + row * row + 7) % 1_000_003}


def expected_checksum(rows: int) -> int:
    """The checksum of an uninterrupted import of ``rows`` rows."""
    data = first_data()
    for row in range(rows):
        data = after_row(data, row)
    return data["checksum"]


def percent(next_row: int, rows: int) -> float:
    """Progress as a percentage."""
    return round(100.0 * next_row / rows, 1)


def status(record: dict[str, Any], latest: Checkpoint | None) -> dict[str, Any]:
    """What ``GET /imports/<id>`` shows: the record plus progress from the latest checkpoint."""
    if record["state"] == "done":
        next_row = record["rows"]
    else:
        next_row = latest.data["next_row"] if latest is not None else 0
    runs = record["runs"]
    return {
        **record,
        "next_row": next_row,
        "progress": percent(next_row, record["rows"]),
        "runner_pid": runs[-1]["pid"] if runs else None,
        "checkpoint_sequence": latest.sequence if latest is not None else None,
        "expected_checksum": expected_checksum(record["rows"]),
    }


def is_pending(record: Any) -> bool:
    """Whether an importer loop should try to run this record."""
    return isinstance(record, dict) and record.get("state") in ("queued", "running")
