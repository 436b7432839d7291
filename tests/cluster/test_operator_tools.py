"""The operator CLI and ``manage.py goscope_redis status`` on a Cluster: every primary counted.

A plain client pointed at one node would see that node's share of the keys only; the CLI
detects the cluster from the node it is given, and the Django status walks every primary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis.cluster

from goscope_redis import RedisAdapter
from goscope_redis.cli import main
from goscope_redis.runner import run_sync
from goscope_redis_django._status import status
from tests.cluster.conftest import require_cluster

require_cluster()

CACHE_KEYS = 30


@pytest.fixture
def seeded(cluster_url: str, prefix: str) -> Iterator[RedisAdapter]:
    """Locks and cache entries spread over the primaries (each key has its own hash slot)."""
    adapter = RedisAdapter(redis.cluster.RedisCluster.from_url(cluster_url), prefix)
    for n in range(CACHE_KEYS):
        adapter.set(f"user:{n}", n)
    for n in range(3):
        assert adapter.acquire(f"orders:{n}", 30_000) is not None
    yield adapter
    adapter.clear()
    for n in range(3):
        adapter.force_release(f"orders:{n}")
    adapter.client.close()


def _nodes_holding(adapter: RedisAdapter, keys: list[str]) -> set[str]:
    client: Any = adapter.client
    return {client.get_node_from_key(k).name for k in keys}


def test_the_seed_really_spans_several_primaries(seeded: RedisAdapter, prefix: str) -> None:
    keys = [f"{prefix}cache:{{user:{n}}}" for n in range(CACHE_KEYS)]
    assert len(_nodes_holding(seeded, keys)) > 1


def test_cli_status_counts_every_primary(
    seeded: RedisAdapter, cluster_url: str, prefix: str, capsys: Any
) -> None:
    assert main(["status", "--json", "--url", cluster_url, "--prefix", prefix]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["counts"]["cache_entries"] == CACHE_KEYS
    assert doc["counts"]["locks"] == 3
    assert doc["server"]["cluster_primaries"] == len(seeded.client.get_primaries())
    assert doc["server"]["used_memory"] > 0


def test_cli_lists_and_clears_across_primaries(
    seeded: RedisAdapter, cluster_url: str, prefix: str, capsys: Any
) -> None:
    assert main(["locks", "--json", "--url", cluster_url, "--prefix", prefix]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(row["key"] for row in listed) == ["orders:0", "orders:1", "orders:2"]
    assert main(["clear-cache", "--yes", "--url", cluster_url, "--prefix", prefix]) == 0
    assert f"Deleted {CACHE_KEYS} cache entries" in capsys.readouterr().out
    assert seeded.keys() == []


def test_django_status_counts_every_primary(seeded: RedisAdapter, prefix: str) -> None:
    report = run_sync(status(prefix, cluster=True), seeded.client)
    assert (report.cache_keys, report.locks, report.mode) == (CACHE_KEYS, 3, "cluster")
