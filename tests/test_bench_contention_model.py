"""The bench's model of redis-py ``Lock`` under contention (``bench/contention.py``).

Its waiters retry every 100 ms in step and its holder barges, so the peer's 4-process run lasts
``3 * k * 100 ms + batch``: a step function of the batch length. Measured here (4 x n
increments, peer ~200 us each alone, so a batch of n/5 ms): n=350 gave 266-274 us/incr (model
264), n=450 217-219 (model 217), n=550 326-332 (model 323), n=700 266-275 (model 264).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = str(Path(__file__).resolve().parent.parent / "bench")
if BENCH not in sys.path:
    sys.path.append(BENCH)

from contention import peer_step_notes  # noqa: E402


def _record(size: int, n: int, ours_us: float, peer_us: float) -> dict[str, Any]:
    return {
        "scale": {"series": "lock contention", "size": size},
        "iterations": n,
        "target_ratio": 1.5 if size == 4 else None,
        "ours": {"us_per_op": {"median": ours_us}},
        "peer": {"us_per_op": {"median": peer_us}},
    }


@pytest.mark.parametrize(
    ("peer_alone_us", "below", "above", "edge"),
    [
        (160.0, "~190 µs/incr", "~340", "20.0 ms under 100 ms"),
        (204.0, "~201 µs/incr", "~351", "2.0 ms over 100 ms"),
    ],
)
def test_the_notes_give_both_steps_of_the_peer_around_the_nearest_edge(
    peer_alone_us: float, below: str, above: str, edge: str
) -> None:
    records = [_record(1, 2000, 180.0, peer_alone_us), _record(4, 500, 210.0, 300.0)]
    _, steps, where = peer_step_notes(records)
    assert below in steps and above in steps
    # (3 * 100 + batch) / 2000 against ours alone (180 us), then (3 * 200 + batch) / 2000.
    assert f"{(300 + 500 * peer_alone_us / 1000) * 1000 / 2000 / 180:.2f}x" in steps
    assert "1.5x target can hold on the upper step only" in steps
    assert edge in where


def test_no_notes_without_the_one_process_row() -> None:
    assert peer_step_notes([_record(4, 500, 210.0, 300.0)]) == ()
