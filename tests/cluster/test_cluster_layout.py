"""Cluster-specific promises: one slot per multi-key script, and SCAN walks on every primary."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio.cluster
import redis.cluster
from redis.crc import key_slot

from goscope_redis import (
    AsyncRedisAdapter,
    Checkpoint,
    RedisAdapter,
    RedisIdempotencyAdapter,
)
from tests.cluster.conftest import require_cluster

require_cluster()


def _record_scripts(client: Any) -> list[tuple[Any, ...]]:
    """Wrap ``execute_command`` so every script call (EVALSHA/EVAL) is recorded."""
    seen: list[tuple[Any, ...]] = []
    original = client.execute_command

    def execute_command(*args: Any, **kwargs: Any) -> Any:
        if args and args[0] in ("EVALSHA", "EVAL"):
            seen.append(args[3 : 3 + int(args[2])])
        return original(*args, **kwargs)

    client.execute_command = execute_command
    return seen


def _every_primitive(adapter: RedisAdapter, idem: RedisIdempotencyAdapter) -> None:
    handle = adapter.acquire("orders:42", 5_000)
    assert handle is not None and handle.extend() and handle.is_valid() and handle.release()
    with adapter.lock("orders:43", 5_000, wait=1_000):
        pass
    adapter.force_release("orders:43")
    adapter.set("n", 1)
    assert adapter.incr("n") == 2 and adapter._get_with_ttl("n")[0] == 2
    breaker = adapter.circuit_breaker("svc", failure_threshold=1, reset_timeout=100)
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)
    adapter.record_failure("other", 3)
    adapter.record_success("other")
    for seq in range(1, 4):
        adapter.save_checkpoint(Checkpoint("import-1", seq, {"row": seq}))
    assert adapter.load_latest_checkpoint("import-1") is not None
    assert len(adapter.list_checkpoints("import-1")) == 3
    assert adapter.cleanup_checkpoints("import-1", 1) == 2
    claim = idem.begin("charge:9", fingerprint="f", lease=5_000)
    assert idem.complete(claim, {"ok": True}, ttl=60_000)
    assert idem.get("charge:9") is not None


def test_every_multi_key_script_stays_in_one_slot(cluster_url, prefix):
    client = redis.cluster.RedisCluster.from_url(cluster_url)
    seen = _record_scripts(client)
    adapter = RedisAdapter(client, prefix)
    _every_primitive(adapter, RedisIdempotencyAdapter(client, prefix))
    multi = [keys for keys in seen if len(keys) > 1]
    assert multi, "the workload ran no multi-key script"
    for keys in multi:
        assert len({key_slot(k.encode()) for k in keys}) == 1, keys
    client.close()


def _spread_keys(raw: redis.cluster.RedisCluster, prefix: str) -> list[str]:
    """Cache keys under ``prefix`` until every primary holds some; return them."""
    names: list[str] = []
    nodes: set[str] = set()
    while len(nodes) < len(raw.get_primaries()) or len(names) < 30:
        name = f"user:{len(names)}"
        names.append(name)
        nodes.add(raw.get_node_from_key(f"{prefix}cache:{{{name}}}").name)
    RedisAdapter(raw, prefix).set_many(dict.fromkeys(names, 1))
    return names


def _left_on_primaries(raw: redis.cluster.RedisCluster, prefix: str) -> int:
    left = 0
    for node in raw.get_primaries():
        left += len(list(node.redis_connection.scan_iter(match=f"{prefix}cache:*")))
    return left


def test_sync_keys_and_clear_walk_every_primary(cluster_url, prefix, raw):
    adapter = RedisAdapter.from_url(cluster_url, prefix, cluster=True)
    adapter.connect()
    names = _spread_keys(raw, prefix)
    assert adapter.keys() == sorted(names)
    assert adapter.delete_pattern("user:1*") == len([n for n in names if n.startswith("user:1")])
    assert adapter.clear() == len([n for n in names if not n.startswith("user:1")])
    assert _left_on_primaries(raw, prefix) == 0
    adapter.disconnect()


def test_async_keys_and_clear_walk_every_primary(cluster_url, prefix, raw):
    async def main() -> None:
        names = _spread_keys(raw, prefix)
        # A fresh client that has sent nothing yet: keys() must still find every primary.
        client = redis.asyncio.cluster.RedisCluster.from_url(cluster_url)
        adapter = AsyncRedisAdapter(client, prefix)
        assert await adapter.keys() == sorted(names)
        assert await adapter.clear() == len(names)
        assert _left_on_primaries(raw, prefix) == 0
        await adapter.client.aclose()

    asyncio.run(main())
