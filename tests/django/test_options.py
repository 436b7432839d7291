"""OPTIONS: serializers, compressors, connection options, IGNORE_EXCEPTIONS, pools, Sentinel and
Cluster locations."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from goscope_redis.testing import RedisServer, free_port
from goscope_redis_django import connections as conn
from goscope_redis_django.cache import RedisCache
from goscope_redis_django.connections import REGISTRY

VALUE = {"name": "widget", "tags": ["a", "b"], "n": 3}


def make(url: str, prefix: str, **options: Any) -> RedisCache:
    return RedisCache(
        url, {"KEY_PREFIX": "o", "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix, **options}}
    )


def stored(raw: redis.Redis, prefix: str, key: str) -> bytes:
    data = raw.get(f"{prefix}cache:{{o:1:{key}}}")
    assert data is not None
    return data


@pytest.mark.parametrize(
    ("serializer", "starts"),
    [
        ("json", b"{"),
        ("msgpack", b"\x83"),
        ("pickle", b"gsp1"),
        ("django_redis.serializers.json.JSONSerializer", b"{"),
        ("django_redis.serializers.pickle.PickleSerializer", b"gsp1"),
        ("goscope_redis.JSONSerializer", b"{"),
    ],
)
def test_serializers(
    redis_server: Any, prefix: str, raw: redis.Redis, serializer: str, starts: bytes
) -> None:
    cache = make(redis_server.url, prefix, SERIALIZER=serializer)
    cache.set("v", VALUE)
    assert cache.get("v") == VALUE
    assert stored(raw, prefix, "v").startswith(starts)
    cache.set("n", 1)
    assert cache.incr("n", 2) == 3


def test_json_serializer_refuses_objects_with_a_pickle_error(
    redis_server: Any, prefix: str
) -> None:
    import pickle

    cache = make(redis_server.url, prefix, SERIALIZER="json")
    with pytest.raises(pickle.PickleError):
        cache.set("obj", object())


@pytest.mark.parametrize(
    "compressor", ["zlib", "lzma", "django_redis.compressors.zlib.ZlibCompressor"]
)
def test_compressor_compresses_large_values_only(
    redis_server: Any, prefix: str, raw: redis.Redis, compressor: str
) -> None:
    cache = make(redis_server.url, prefix, COMPRESSOR=compressor, MIN_COMPRESS_LEN=100)
    big, small = "x" * 10_000, "tiny"
    cache.set_many({"big": big, "small": small})
    assert cache.get_many(["big", "small"]) == {"big": big, "small": small}
    assert len(stored(raw, prefix, "big")) < 1000
    assert stored(raw, prefix, "small")[:1] == b"\x00"


def test_values_written_before_compression_stay_readable(redis_server: Any, prefix: str) -> None:
    make(redis_server.url, prefix).set("old", VALUE)
    assert make(redis_server.url, prefix, COMPRESSOR="zlib").get("old") == VALUE


def test_corrupt_compressed_value_is_a_miss(
    redis_server: Any, prefix: str, raw: redis.Redis
) -> None:
    cache = make(redis_server.url, prefix, COMPRESSOR="zlib", MIN_COMPRESS_LEN=0)
    raw.set(f"{prefix}cache:{{o:1:bad}}", b"Znot zlib at all")
    assert cache.get("bad", "miss") == "miss"


def test_zstd_when_available(redis_server: Any, prefix: str) -> None:
    from goscope_redis_django.serializers import make_compressor

    try:
        make_compressor("zstd")
    except ImproperlyConfigured as exc:
        assert "zstandard" in str(exc)
        pytest.skip("no zstd module installed")
    cache = make(redis_server.url, prefix, COMPRESSOR="zstd", MIN_COMPRESS_LEN=0)
    cache.set("z", VALUE)
    assert cache.get("z") == VALUE


@pytest.mark.parametrize(
    "options",
    [
        {"SERIALISER": "json"},
        {"CLIENT_CLASS": "django_redis.client.ShardClient"},
        {"COMPRESSOR": "lz5"},
    ],
)
def test_unknown_or_unsupported_options_are_errors(
    redis_server: Any, prefix: str, options: dict[str, Any]
) -> None:
    with pytest.raises(ImproperlyConfigured):
        make(redis_server.url, prefix, **options)


def test_replica_lists_are_refused(redis_server: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="exactly one"):
        RedisCache([redis_server.url, redis_server.url], {})


def test_pickle_without_any_secret_is_refused(
    redis_server: Any, prefix: str, settings: Any
) -> None:
    settings.SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        make(redis_server.url, prefix)
    make(redis_server.url, prefix, SERIALIZER="json").set("ok", 1)


def test_connection_options_reach_redis_py(redis_server: Any, prefix: str) -> None:
    cache = make(
        redis_server.url,
        prefix,
        SOCKET_TIMEOUT=2,
        SOCKET_CONNECT_TIMEOUT=1,
        CONNECTION_POOL_KWARGS={"max_connections": 7},
        health_check_interval=30,
    )
    cache.set("k", 1)
    pool = cache._sync_client().connection_pool
    assert pool.max_connections == 7
    assert pool.connection_kwargs["socket_timeout"] == 2
    assert pool.connection_kwargs["health_check_interval"] == 30


# --- IGNORE_EXCEPTIONS ---------------------------------------------------------------------------


def test_ignore_exceptions_swallows_only_connection_errors(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    cache = make(dead, prefix, IGNORE_EXCEPTIONS=True, SOCKET_CONNECT_TIMEOUT=0.2)
    with caplog.at_level(logging.WARNING, logger="goscope_redis"):
        assert cache.get("k", "dflt") == "dflt"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set("k", 1) is None
        assert cache.add("k", 1) is False
        assert cache.delete("k") is False
        assert cache.has_key("k") is False
    assert "IGNORE_EXCEPTIONS" in caplog.text
    with pytest.raises(redis.ConnectionError):
        cache.incr("k")  # a counter must never silently fail


def test_ignore_exceptions_on_the_async_face(prefix: str) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    cache = make(dead, prefix, IGNORE_EXCEPTIONS=True, SOCKET_CONNECT_TIMEOUT=0.2)

    async def calls() -> list[Any]:
        found = [
            await cache.aget("k", "dflt"),
            await cache.aget_many(["k"]),
            await cache.aset("k", 1),
            await cache.ahas_key("k"),
        ]
        with pytest.raises(redis.ConnectionError):
            await cache.aincr("k")
        await REGISTRY.aclose_loop()
        return found

    assert asyncio.run(calls()) == ["dflt", {}, None, False]


def test_ignore_exceptions_never_hides_a_response_error(redis_server: Any, prefix: str) -> None:
    cache = make(redis_server.url, prefix, IGNORE_EXCEPTIONS=True)
    cache.set("text", "abc")
    with pytest.raises(ValueError):
        cache.incr("text")


def test_without_ignore_exceptions_connection_errors_raise(prefix: str) -> None:
    cache = make(f"redis://127.0.0.1:{free_port()}/0", prefix, SOCKET_CONNECT_TIMEOUT=0.2)
    with pytest.raises(redis.ConnectionError):
        cache.get("k")


# --- process-global, fork-aware, per-loop pools --------------------------------------------------


def test_backends_of_every_thread_share_one_client() -> None:
    clients: list[Any] = []

    def use() -> None:
        cache = caches["default"]  # a new backend object in each thread
        cache.get("x")
        clients.append(cache._sync_client())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in clients}) == 1
    assert caches["default"]._sync_client() is clients[0]


def test_each_event_loop_gets_its_own_async_client() -> None:
    config = caches["default"]._runtime.client

    async def clients() -> tuple[Any, Any]:
        await caches["default"].aset("k", 1)
        return conn.async_client(config), conn.async_client(config)

    loops = [asyncio.new_event_loop() for _ in range(2)]
    try:
        (a1, a2), (b1, _) = (loop.run_until_complete(clients()) for loop in loops)
        assert a1 is a2  # one client per loop...
        assert a1 is not b1  # ...and never shared across loops
    finally:
        for loop in loops:
            loop.run_until_complete(REGISTRY.aclose_loop())
            loop.close()


def _child(config: Any, parent_id: int, queue: Any) -> None:
    client = conn.sync_client(config)
    client.ping()
    queue.put((id(client) != parent_id, conn.REGISTRY.generation))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_reuses_the_parents_connections() -> None:
    cache = caches["default"]
    cache.set("k", 1)
    parent = cache._sync_client()
    generation = conn.REGISTRY.generation
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(cache._runtime.client, id(parent), queue))
    proc.start()
    fresh, child_generation = queue.get(timeout=20)
    proc.join(10)
    assert fresh is True
    assert child_generation > generation
    assert cache.get("k") == 1  # the parent's pool still works


# --- Sentinel and Cluster locations ---------------------------------------------------------


@pytest.fixture
def sentinel(redis_server: Any) -> Iterator[int]:
    """A real redis-server in sentinel mode monitoring the test server as ``mymaster``."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="goscope-sentinel-")
    conf = os.path.join(workdir, "sentinel.conf")
    with open(conf, "w") as fh:
        fh.write(
            f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
            f"sentinel monitor mymaster 127.0.0.1 {redis_server.port} 1\n"
        )
    proc = subprocess.Popen(
        [RedisServer().binary, conf, "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        probe = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if probe.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"):
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        probe.close()
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def test_sentinel_location(sentinel: int, prefix: str, raw: redis.Redis) -> None:
    cache = make(f"redis+sentinel://127.0.0.1:{sentinel}/mymaster/0", prefix)
    cache.set("s", VALUE)
    assert cache.get("s") == VALUE
    assert raw.exists(f"{prefix}cache:{{o:1:s}}") == 1

    async def through_async() -> Any:
        value = await cache.aget("s")
        await REGISTRY.aclose_loop()
        return value

    assert asyncio.run(through_async()) == VALUE


def test_django_redis_style_sentinels_option(sentinel: int, prefix: str) -> None:
    cache = make("redis://mymaster/0", prefix, SENTINELS=[("127.0.0.1", sentinel)])
    cache.set("s", 1)
    assert cache.get("s") == 1


@pytest.fixture
def cluster() -> Iterator[RedisServer]:
    """A one-node Redis Cluster owning every slot."""
    port = free_port()
    while port > 55_000:  # the cluster bus listens on port + 10000
        port = free_port()
    server = RedisServer(
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", port=port
    )
    server.start()
    try:
        client = redis.Redis(port=server.port)
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "cluster did not come up"
            time.sleep(0.05)
        client.close()
        yield server
    finally:
        server.stop()


def test_cluster_location(cluster: RedisServer, prefix: str) -> None:
    cache = make(f"redis+cluster://127.0.0.1:{cluster.port}", prefix)
    cache.set_many({"a": 1, "b": VALUE}, 60)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": VALUE}
    assert cache.incr("a") == 2
    assert cache.incr_version("b") == 2
    assert cache.get("b", version=2) == VALUE
    assert 55 <= cache.ttl("b", version=2) <= 60
    cache.delete_many(["a"])
    assert cache.get("a") is None
    cache.clear()
    assert cache.get("b", version=2) is None

    async def through_async() -> Any:
        await cache.aset("x", 5)
        value = await cache.aget_many(["x"])
        await REGISTRY.aclose_loop()
        return value

    assert asyncio.run(through_async()) == {"x": 5}
