"""Fault-injection fixtures: a private redis-server per test, spawned children, a fenced store.

Each test gets its own ``redis-server`` (``fault_server``), so it can pause, kill and restart it
without disturbing the session server the rest of the suite uses. The session server plays the
*protected storage* of the fencing tests (``store``): it is never faulted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from goscope_redis.testing import RedisServer
from tests.faults.fenced import FencedStore


@pytest.fixture
def fault_server() -> Iterator[RedisServer]:
    """A private server this test may pause, kill and restart."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def store(redis_server: RedisServer, prefix: str) -> Iterator[FencedStore]:
    """Storage that accepts a write only with a fencing token above every token it has seen."""
    fenced = FencedStore(redis_server.url, f"{prefix}store")
    yield fenced
    fenced.close()
