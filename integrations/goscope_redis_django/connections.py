"""Process-global Redis clients, shared by every cache backend instance, lock and middleware.

Django builds a cache backend object per thread (and, under ASGI, per request context), so a
backend must never own its connections: clients live here, keyed by their connection settings.
Sync clients are one per process; async clients are one per event loop, because a
``redis.asyncio`` connection belongs to the loop that opened it. After ``fork`` a child drops
(without closing) every inherited client, since those sockets belong to the parent.

Locations understood (``LOCATION`` or ``GOSCOPE_REDIS["URL"]``):

* ``redis://``, ``rediss://`` and ``unix://`` URLs, as redis-py reads them;
* ``redis+cluster://host:port[/...]`` (or ``OPTIONS["CLUSTER"] = True``) for Redis Cluster;
* ``redis+sentinel://[user:password@]host:port[,host:port...]/service_name[/db]`` for Sentinel
  (``rediss+sentinel://`` connects to the primary over TLS).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, RedisAdapter

DEFAULT_MAX_CONNECTIONS: Final = 100
DEFAULT_POOL_TIMEOUT_S: Final = 20.0
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
_SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How to reach Redis: a location plus redis-py keyword arguments (hashable via ``key``)."""

    url: str
    kwargs: Mapping[str, Any]
    cluster: bool = False
    sentinel_kwargs: Mapping[str, Any] | None = None
    key: str = field(init=False, repr=False, compare=False)
    """A stable identity for the registry: equal settings share one pool."""

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme in _CLUSTER_SCHEMES:
            object.__setattr__(self, "cluster", True)
        items = sorted((k, repr(v)) for k, v in self.kwargs.items())
        sentinel = sorted((k, repr(v)) for k, v in (self.sentinel_kwargs or {}).items())
        object.__setattr__(self, "key", repr((self.url, items, self.cluster, sentinel)))

    @property
    def is_sentinel(self) -> bool:
        """True for a ``redis+sentinel://`` location."""
        return urlsplit(self.url).scheme in _SENTINEL_SCHEMES


@dataclass(frozen=True, slots=True)
class _SentinelTarget:
    hosts: list[tuple[str, int]]
    service: str
    db: int
    ssl: bool
    username: str | None
    password: str | None


def _parse_sentinel(url: str) -> _SentinelTarget:
    parts = urlsplit(url)
    hosts = []
    for item in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = item.rpartition(":")
        hosts.append((host or item, int(port) if host else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError(f"sentinel location {url!r} needs a service name: .../mymaster[/db]")
    db = int(path[1]) if len(path) > 1 else 0
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return _SentinelTarget(hosts, path[0], db, _SENTINEL_SCHEMES[parts.scheme], username, password)


def _sentinel_primary(sentinel_class: Any, config: ClientConfig, kwargs: dict[str, Any]) -> Any:
    """The current primary of a ``redis+sentinel://`` location, followed on failover."""
    target = _parse_sentinel(config.url)
    sentinel = sentinel_class(target.hosts, sentinel_kwargs=dict(config.sentinel_kwargs or {}))
    auth = {"username": target.username, "password": target.password}
    return sentinel.master_for(target.service, db=target.db, ssl=target.ssl, **auth, **kwargs)


def _cluster_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{_CLUSTER_SCHEMES.get(scheme, scheme)}{sep}{rest}"


def _blocking(pool_class: Any, url: str, kwargs: dict[str, Any], timeout: Any) -> Any:
    # A burst beyond max_connections waits (up to pool_timeout s) for a free connection instead
    # of failing at once, which is what redis-py's default pool does at 100 connections.
    kwargs.setdefault("max_connections", DEFAULT_MAX_CONNECTIONS)
    return pool_class.from_url(url, timeout=timeout, **kwargs)


def build_sync(config: ClientConfig) -> Any:
    """A new sync client (``Redis``, ``RedisCluster`` or a Sentinel-managed primary)."""
    kwargs = dict(config.kwargs)
    pool_timeout = kwargs.pop("pool_timeout", DEFAULT_POOL_TIMEOUT_S)
    if config.is_sentinel:
        from redis.sentinel import Sentinel

        return _sentinel_primary(Sentinel, config, kwargs)
    if config.cluster:
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(_cluster_url(config.url), **kwargs)
    return redis.Redis.from_pool(
        _blocking(redis.BlockingConnectionPool, config.url, kwargs, pool_timeout)
    )


def build_async(config: ClientConfig) -> Any:
    """A new ``redis.asyncio`` client for the running loop (same kinds as :func:`build_sync`)."""
    kwargs = dict(config.kwargs)
    pool_timeout = kwargs.pop("pool_timeout", DEFAULT_POOL_TIMEOUT_S)
    if config.is_sentinel:
        from redis.asyncio.sentinel import Sentinel

        return _sentinel_primary(Sentinel, config, kwargs)
    if config.cluster:
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster.from_url(_cluster_url(config.url), **kwargs)
    pool = _blocking(redis.asyncio.BlockingConnectionPool, config.url, kwargs, pool_timeout)
    return redis.asyncio.Redis.from_pool(pool)


class Registry:
    """The process-global clients (and anything built over them), fork-aware, per loop."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # building an adapter fetches its client
        self._forget()

    generation = 0
    """Bumped whenever the registry forgets its clients, so holders of one re-fetch it."""

    def _forget(self) -> None:
        # After fork the inherited sockets belong to the parent: drop them without closing.
        self.generation += 1
        self._pid = os.getpid()
        self._sync: dict[Any, Any] = {}
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def sync(self, key: Any, build: Callable[..., Any], *args: Any) -> Any:
        """The process's object for ``key``, built once by ``build(*args)``."""
        if self._pid != os.getpid():
            self._forget()
        found = self._sync.get(key)
        if found is None:
            with self._lock:
                found = self._sync.get(key)
                if found is None:
                    found = self._sync[key] = build(*args)
        return found

    def for_loop(self, key: Any, build: Callable[..., Any], *args: Any) -> Any:
        """The running event loop's object for ``key``, built once per loop by ``build(*args)``."""
        if self._pid != os.getpid():
            self._forget()
        loop = asyncio.get_running_loop()
        objects = self._by_loop.get(loop)
        if objects is None:
            objects = self._by_loop.setdefault(loop, {})
        found = objects.get(key)
        if found is None:
            found = objects[key] = build(*args)
        return found

    async def aclose_loop(self) -> None:
        """Close and forget the running loop's async clients (an ASGI lifespan shutdown hook)."""
        objects = self._by_loop.pop(asyncio.get_running_loop(), {})
        for obj in objects.values():
            aclose = getattr(obj, "aclose", None)
            if aclose is not None:
                await aclose()

    def close_all(self) -> None:
        """Close and forget every sync client of this process (tests, shutdown hooks).

        Async clients are only forgotten: they can be closed only on their own loop.
        """
        with self._lock:
            for obj in self._sync.values():
                close = getattr(obj, "close", None)
                if close is not None and not inspect.iscoroutinefunction(close):
                    close()
            self._forget()


REGISTRY = Registry()
os.register_at_fork(after_in_child=REGISTRY._forget)


def sync_client(config: ClientConfig) -> Any:
    """The process-wide sync client for ``config``."""
    return REGISTRY.sync(config.key, build_sync, config)


def async_client(config: ClientConfig) -> Any:
    """The running loop's async client for ``config``."""
    return REGISTRY.for_loop(config.key, build_async, config)


def sync_adapter(config: ClientConfig, prefix: str) -> RedisAdapter:
    """A process-wide :class:`RedisAdapter` borrowing the client of ``config``.

    Shared so that its lease-renewal thread is shared too.
    """
    adapter: RedisAdapter = REGISTRY.sync(
        ("adapter", config.key, prefix), lambda: RedisAdapter(sync_client(config), prefix)
    )
    return adapter


def async_adapter(config: ClientConfig, prefix: str) -> AsyncRedisAdapter:
    """The running loop's :class:`AsyncRedisAdapter` borrowing that loop's client."""
    adapter: AsyncRedisAdapter = REGISTRY.for_loop(
        ("adapter", config.key, prefix),
        lambda: AsyncRedisAdapter(async_client(config), prefix),
    )
    return adapter
