"""Adapter lifecycle: connection ownership, connect(), script preloading, repr."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, RedisAdapter, SignedPickleSerializer, scripts


def _clients_named(client: redis.Redis, name: str) -> int:
    return sum(1 for c in client.client_list() if c.get("name") == name)


def test_from_url_owns_and_closes_its_client(redis_server, sync_client):
    adapter = RedisAdapter.from_url(redis_server.url, "p:", client_name="owned-by-adapter")
    assert adapter.owns_client
    adapter.connect()
    adapter.set("k", 1)
    assert _clients_named(sync_client, "owned-by-adapter") == 1
    adapter.disconnect()
    assert _clients_named(sync_client, "owned-by-adapter") == 0


def test_borrowed_client_is_never_closed(sync_client):
    adapter = RedisAdapter(sync_client, "p:")
    assert not adapter.owns_client
    adapter.connect()
    adapter.disconnect()
    assert sync_client.ping()  # still usable
    with RedisAdapter(sync_client, "q:") as scoped:
        scoped.set("k", 1)
    assert sync_client.ping()


def test_connect_pings_and_preloads_every_script(sync_client):
    sync_client.script_flush()
    RedisAdapter(sync_client).connect()
    assert all(sync_client.script_exists(*[s.sha for s in scripts.ALL]))


def test_scripts_run_after_a_script_flush(sync_client):
    adapter = RedisAdapter(sync_client, "p:")
    adapter.connect()
    sync_client.script_flush()  # e.g. a Redis restart: EVALSHA now says NOSCRIPT
    assert adapter.acquire("k", 1_000) is not None


def test_is_connected_reports_reachability(redis_server):
    assert RedisAdapter.from_url(redis_server.url).is_connected()
    dead = RedisAdapter.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    assert not dead.is_connected()
    with pytest.raises(redis.ConnectionError):
        dead.connect()


def test_prefix_with_braces_is_rejected(sync_client):
    with pytest.raises(ValueError, match="brace"):
        RedisAdapter(sync_client, "app{1}:")


def test_pickle_with_text_client_is_refused(redis_server):
    client = redis.Redis(port=redis_server.port, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisAdapter(client, serializer=SignedPickleSerializer("s"))
    client.close()


def test_repr_hides_nothing_secret(sync_client):
    adapter = RedisAdapter(sync_client, "p:", serializer=SignedPickleSerializer("topsecret"))
    assert "topsecret" not in repr(adapter)


def test_async_ownership(redis_server):
    async def main():
        borrowed = redis.asyncio.Redis(port=redis_server.port)
        async with AsyncRedisAdapter(borrowed, "p:") as adapter:
            await adapter.set("k", 1)
        assert await borrowed.ping()  # still open
        await borrowed.aclose()
        owned = AsyncRedisAdapter.from_url(redis_server.url, "p:")
        assert owned.owns_client
        async with owned:
            assert await owned.get("k") == 1
            assert await owned.is_connected()

    asyncio.run(main())


def test_commands_survive_a_killed_connection(sync_client, prefix):
    client = redis.Redis(port=sync_client.connection_pool.connection_kwargs["port"])
    adapter = RedisAdapter(client, prefix)
    adapter.set("k", 1)
    assert adapter.acquire("lock", 5_000) is not None
    sync_client.client_kill_filter(_type="normal", skipme=True)  # drop the adapter's socket
    assert adapter.get("k") == 1  # reconnects through redis-py's own retry policy
    assert adapter.acquire("lock2", 5_000) is not None
    sync_client.client_kill_filter(_type="normal", skipme=True)
    assert adapter.has("k")
    client.close()
