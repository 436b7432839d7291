"""The ACL user really is limited, and a full workload under it is never denied anything."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio
from redis.exceptions import NoPermissionError

from goscope_redis import AsyncRedisAdapter, Checkpoint, RedisAdapter

from .conftest import create_user


def _login(server, name, password):
    return {"port": server.port, "username": name, "password": password}


def _denials(admin: redis.Redis, user: str) -> list[dict]:
    return [e for e in admin.execute_command("ACL", "LOG") if _field(e, "username") == user]


def _field(entry, name):
    if isinstance(entry, dict):
        value = entry.get(name, entry.get(name.encode()))
    else:
        pairs = dict(zip(entry[::2], entry[1::2]))
        value = pairs.get(name.encode(), pairs.get(name))
    return value.decode() if isinstance(value, bytes) else value


def test_the_user_is_denied_other_keys_and_dangerous_commands(acl_server, admin, acl_users, prefix):
    name, password = create_user(admin, prefix)
    acl_users.append(name)
    client = redis.Redis(**_login(acl_server, name, password))
    client.set(f"{prefix}mine", 1)
    for attempt in (
        lambda: client.set("elsewhere", 1),
        lambda: client.get(f"x{prefix}mine"),
        lambda: client.keys("*"),
        lambda: client.flushdb(),
        lambda: client.config_get("*"),
    ):
        with pytest.raises(NoPermissionError):
            attempt()
    client.close()


def test_every_primitive_runs_without_a_single_acl_denial(acl_server, admin, acl_users, prefix):
    name, password = create_user(admin, prefix)
    acl_users.append(name)
    admin.execute_command("ACL", "LOG", "RESET")
    adapter = RedisAdapter(redis.Redis(**_login(acl_server, name, password)), prefix)
    adapter.connect()  # SCRIPT LOAD is allowed: it is not @dangerous
    with adapter.lock("orders:1", 5_000, wait=1_000) as handle:
        assert handle.is_valid()
    adapter.set("k", {"v": 1}, ttl=60_000)
    assert adapter.keys() == ["k"] and adapter.clear() == 1
    assert adapter.circuit_breaker("svc").call(lambda: 7) == 7
    adapter.save_checkpoint(Checkpoint("task", 1, {"row": 1}))
    assert adapter.load_latest_checkpoint("task") is not None
    idem = adapter.idempotency
    claim = idem.begin("charge:1", fingerprint="abc")
    assert idem.complete(claim, {"ok": True}, ttl=60_000)
    assert _denials(admin, name) == []
    adapter.client.close()


def test_async_workload_runs_without_a_single_acl_denial(acl_server, admin, acl_users, prefix):
    name, password = create_user(admin, prefix)
    acl_users.append(name)
    admin.execute_command("ACL", "LOG", "RESET")

    async def main() -> None:
        client = redis.asyncio.Redis(**_login(acl_server, name, password))
        adapter = AsyncRedisAdapter(client, prefix)
        await adapter.connect()
        async with adapter.lock("orders:1", 5_000, wait=1_000):
            await adapter.set_many({"a": 1, "b": 2})
        assert await adapter.keys() == ["a", "b"]
        assert await adapter.clear() == 2
        await client.aclose()

    asyncio.run(main())
    assert _denials(admin, name) == []


def test_an_adapter_outside_its_users_prefix_fails_closed(acl_server, admin, acl_users, prefix):
    name, password = create_user(admin, prefix)
    acl_users.append(name)
    adapter = RedisAdapter(redis.Redis(**_login(acl_server, name, password)), "elsewhere:")
    with pytest.raises(NoPermissionError):
        adapter.acquire("orders:1", 5_000)  # never a silent "not acquired"
    with pytest.raises(NoPermissionError):
        adapter.idempotency.begin("charge:1")
    assert admin.keys("elsewhere:*") == []
    adapter.client.close()
