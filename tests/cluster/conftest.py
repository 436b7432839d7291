"""Run the contract suite against a real Redis Cluster, sync and async.

The cluster is not started here: ``scripts/ci-extra`` starts 3 primaries on loopback ports and
exports ``GOSCOPE_TEST_CLUSTER_URL``. Without it every test in this folder is skipped, so the
README's test command stays unchanged. The test modules re-export the contract modules; these
fixtures replace the standalone faces with ``RedisCluster`` / ``redis.asyncio.cluster``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio.cluster
import redis.cluster

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from tests.conftest import AsyncFace, SyncFace
from tests.contract.conftest import idem

__all__ = ["idem"]

CLUSTER_URL_ENV = "GOSCOPE_TEST_CLUSTER_URL"
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Contract tests that build their own standalone client from `redis_server` say nothing
    # about Cluster; they already ran in tests/contract.
    skip = pytest.mark.skip(reason="builds its own standalone client; runs in tests/contract")
    for item in items:
        if _HERE in Path(str(item.fspath)).parents and "redis_server" in item.fixturenames:
            item.add_marker(skip)


def require_cluster() -> None:
    """Skip the calling test module (one line in the report) when no cluster is configured."""
    if not os.environ.get(CLUSTER_URL_ENV):
        pytest.skip(
            f"no Redis Cluster: set {CLUSTER_URL_ENV} (scripts/ci-extra starts one)",
            allow_module_level=True,
        )


@pytest.fixture(scope="session")
def cluster_url() -> str:
    """The URL of one node of a running cluster, or skip."""
    url = os.environ.get(CLUSTER_URL_ENV)
    if not url:
        pytest.skip(f"no Redis Cluster: set {CLUSTER_URL_ENV} (scripts/ci-extra starts one)")
    return url


@pytest.fixture(params=["sync-real", "async-real"], ids=["sync-cluster", "async-cluster"])
def face_id(request: pytest.FixtureRequest, cluster_url: str) -> str:
    return str(request.param)  # depends on cluster_url: every face skips without a cluster


def cluster_face(
    mode: str, url: str, prefix: str, loop: asyncio.AbstractEventLoop, **kwargs: Any
) -> Any:
    """An adapter over ``RedisCluster`` (sync) or ``redis.asyncio.cluster.RedisCluster``."""
    if mode == "sync":
        return SyncFace(RedisAdapter(redis.cluster.RedisCluster.from_url(url), prefix, **kwargs))
    client = redis.asyncio.cluster.RedisCluster.from_url(url)
    return AsyncFace(AsyncRedisAdapter(client, prefix, **kwargs), loop)


def close_face(face: Any, loop: asyncio.AbstractEventLoop) -> None:
    client = face.unwrapped.client
    if face.is_async:
        loop.run_until_complete(client.aclose())
    else:
        client.close()


@pytest.fixture
def adapter(
    face_id: str, cluster_url: str, prefix: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Any]:
    face = cluster_face(face_id.split("-")[0], cluster_url, prefix, loop)
    yield face
    close_face(face, loop)


@pytest.fixture
def factory(face_id: str, cluster_url: str, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    made: list[Any] = []

    def build(prefix: str, **kwargs: Any) -> Any:
        made.append(cluster_face(face_id.split("-")[0], cluster_url, prefix, loop, **kwargs))
        return made[-1]

    yield build
    for face in made:
        close_face(face, loop)


@pytest.fixture
def raw(cluster_url: str) -> Iterator[redis.cluster.RedisCluster]:
    """A plain sync cluster client, to assert what is really stored (KEYS walks all primaries)."""
    client = redis.cluster.RedisCluster.from_url(cluster_url)
    yield client
    client.close()
