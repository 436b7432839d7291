"""Run ``example_projects/run.py`` as a user would, and always clean up after it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "example_projects" / "run.py"


class Launch:
    """A running launcher: its output (a file), its report, and the pids it printed."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path, report: Path) -> None:
        self.proc, self.log, self.report_path = proc, log, report

    def output(self) -> str:
        """Everything the launcher printed so far."""
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> bool:
        """Until ``text`` is printed (True) or the launcher exits or time runs out (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                return text in self.output()
            time.sleep(0.2)
        return False

    def report(self) -> dict[str, Any]:
        """The tour's findings (``--report``)."""
        data: dict[str, Any] = json.loads(self.report_path.read_text())
        return data

    def printed(self, pattern: str) -> str | None:
        """The first group of ``pattern`` in the output."""
        match = re.search(pattern, self.output())
        return match.group(1) if match else None

    def supervisor_pid(self) -> int | None:
        """uvicorn's supervisor pid, as printed."""
        found = self.printed(r"uvicorn supervisor pid (\d+)")
        return int(found) if found else None


def env(**changes: str | None) -> dict[str, str]:
    """The environment with ``changes`` applied (``None`` removes a variable)."""
    result = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


@contextmanager
def launch(args: list[str], environ: dict[str, str], workdir: Path) -> Iterator[Launch]:
    """Start the launcher; on the way out, stop it and every process it started."""
    log, report = workdir / "launcher.out", workdir / "report.json"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--port", "0", "--report", str(report), *args],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    run = Launch(proc, log, report)
    try:
        yield run
    finally:
        _stop(run)


def _stop(run: Launch) -> None:
    # The launcher cleans up on SIGTERM (uvicorn, embedded Redis); force only what lingers.
    if run.proc.poll() is None:
        run.proc.send_signal(signal.SIGTERM)
        try:
            run.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    for group in (run.supervisor_pid(), run.proc.pid):
        if group is not None:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if run.proc.poll() is None:
        run.proc.wait(timeout=10)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
