"""Spawned child processes for the fault tests, and the handle the test drives them with.

A child reports progress on a queue (``("acquired", token)``...), so the test can freeze it
(``SIGSTOP``), thaw it (``SIGCONT``) or kill it (``SIGKILL``) at a known point. Targets are
module-level functions because children are started with ``spawn``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from typing import Any


class Child:
    """A spawned process running ``target(*args, events, go)``."""

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        ctx = mp.get_context("spawn")
        self.events = ctx.Queue()
        self.go = ctx.Event()
        self.proc = ctx.Process(target=target, args=(*args, self.events, self.go), daemon=True)
        self.proc.start()

    @property
    def pid(self) -> int:
        assert self.proc.pid is not None
        return self.proc.pid

    def expect(self, name: str, timeout: float = 30.0) -> Any:
        """Wait for the child's next event, which must be ``name``; return its payload."""
        got, payload = self.events.get(timeout=timeout)
        if got == "error":
            raise AssertionError(f"child failed: {payload}")
        assert got == name, (got, payload)
        return payload

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def cont(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no ``finally``, no ``atexit``, no release."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.join(10)

    def close(self) -> None:
        if self.proc.is_alive():
            self.cont()
            self.proc.kill()
        self.proc.join(10)
        self.events.close()
        self.events.join_thread()
