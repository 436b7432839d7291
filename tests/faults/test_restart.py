"""Redis restarted (SIGKILL, then the same port), without persistence and with AOF ``always``.

* clients reconnect without help;
* a lock held across a restart that lost the data reports lost ownership on its next call;
* fencing tokens after the restart exceed every token issued before, even though the fence
  counters vanished (tokens never fall below Redis ``TIME`` in microseconds);
* a breaker runs on its process-local fallback while Redis is down and returns to Redis after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from goscope_redis import AsyncRedisAdapter, CircuitOpenError, LockLostError, RedisAdapter
from goscope_redis.testing import RedisServer

MODES = {
    "no-persistence": (),
    "aof-always": ("--appendonly", "yes", "--appendfsync", "always"),
}


@pytest.fixture(params=list(MODES))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[RedisServer, bool]]:
    """A private server, and whether it keeps its data across a crash."""
    with RedisServer(*MODES[request.param]) as started:
        yield started, request.param == "aof-always"


def test_clients_reconnect_without_help(server, prefix):
    srv, durable = server
    sync = RedisAdapter(redis.Redis(port=srv.port), prefix)
    sync.set("k", "before")

    async def main() -> None:
        client = redis.asyncio.Redis(port=srv.port)
        adapter = AsyncRedisAdapter(client, prefix)
        assert await adapter.get("k") == "before"  # a pooled connection now exists
        srv.restart()
        sync_value = sync.get("k")  # the stale pooled connection is replaced transparently
        assert await adapter.get("k") == sync_value == ("before" if durable else None)
        await adapter.set("k", "after")
        assert sync.get("k") == "after"
        await client.aclose()

    asyncio.run(main())
    sync.client.close()


def test_a_lock_held_across_the_restart_reports_its_ownership_truthfully(server, prefix):
    srv, durable = server
    adapter = RedisAdapter(redis.Redis(port=srv.port), prefix)
    handle = adapter.acquire("job", 30_000)
    assert handle is not None
    srv.restart()
    # Without persistence the lease is gone: every owner-checked call says so, none raises.
    assert handle.is_valid() is durable
    assert handle.extend() is durable
    assert handle.release() is durable
    adapter.client.close()


def test_an_auto_extended_lock_block_raises_lock_lost_after_losing_its_data(server, prefix):
    srv, durable = server
    adapter = RedisAdapter(redis.Redis(port=srv.port), prefix)
    context = adapter.lock("job", ttl=600)
    handle = context.__enter__()
    srv.restart()
    time.sleep(0.6)  # two renewal periods (a third of the TTL each)
    if durable:
        context.__exit__(None, None, None)  # still ours: released normally
        assert not handle.lost
    else:
        assert handle.lost
        with pytest.raises(LockLostError):
            context.__exit__(None, None, None)
    adapter.client.close()


def test_async_lock_block_raises_lock_lost_after_losing_its_data(server, prefix):
    srv, durable = server

    async def main() -> None:
        client = redis.asyncio.Redis(port=srv.port)
        adapter = AsyncRedisAdapter(client, prefix)
        with contextlib.nullcontext() if durable else pytest.raises(LockLostError):
            async with adapter.lock("job", ttl=600) as handle:
                await asyncio.to_thread(srv.restart)
                await asyncio.sleep(0.6)
        assert handle.lost is not durable
        await client.aclose()

    asyncio.run(main())


def test_fencing_tokens_after_the_restart_exceed_every_earlier_token(server, prefix, store):
    srv, durable = server
    adapter = RedisAdapter(redis.Redis(port=srv.port), prefix)
    issued = []
    for _ in range(50):
        handle = adapter.acquire("job", 30_000)
        issued.append(handle.fencing_token)
        handle.release()
    stale = adapter.acquire("job", 30_000)  # a holder that will be cut off by the restart
    assert store.write(stale.fencing_token, "before")
    srv.restart()
    fence = f"{prefix}lock:{{job}}:fence"
    assert adapter.client.exists(fence) == int(durable)  # without persistence: counter gone
    if durable:  # the lease survived with the data: the holder still owns it
        assert adapter.acquire("job", 30_000) is None
        assert stale.release()
    fresh = adapter.acquire("job", 30_000)
    assert fresh is not None
    assert fresh.fencing_token > max(*issued, stale.fencing_token)
    assert store.write(fresh.fencing_token, "after")
    assert not store.write(stale.fencing_token, "stale")  # the old holder is fenced off
    adapter.client.close()


def test_breaker_falls_back_while_redis_is_down_and_returns_after(server, prefix, caplog):
    srv, _ = server
    # One quick reconnect attempt per call: the breaker must not wait out a long retry policy.
    client = redis.Redis(port=srv.port, retry=Retry(NoBackoff(), 1), socket_connect_timeout=0.5)
    adapter = RedisAdapter(client, prefix)
    breaker = adapter.circuit_breaker("payments", failure_threshold=2, reset_timeout=300)
    assert breaker.call(lambda: "via redis") == "via redis"
    with caplog.at_level(logging.INFO, logger="goscope_redis"):
        srv.crash()
        assert breaker.call(lambda: "local") == "local"  # Redis down: the call still runs
        for _ in range(2):
            with pytest.raises(ZeroDivisionError):
                breaker.call(lambda: 1 / 0)
        with pytest.raises(CircuitOpenError):  # the local breaker keeps the same thresholds
            breaker.call(lambda: "refused")
        srv.start()
        time.sleep(0.5)  # past the first retry (min(1 s, reset_timeout))
        assert breaker.call(lambda: "back") == "back"
        assert breaker.state().state == "closed"
    assert "using Redis again" in caplog.text
    assert sum("process-local" in r.getMessage() for r in caplog.records) == 1
    client.close()
