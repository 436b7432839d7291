"""The process default adapter used by the decorators (``configure()``).

Connection pools are process-global by design (web servers build handlers per request), so they
are the one piece of module-level state. They are fork-aware: a child process never reuses its
parent's connections (the cache is dropped after ``fork``), and async clients are kept per event
loop, because a ``redis.asyncio`` connection belongs to the loop that opened it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
from goscope_redis.codecs import Serializer
from goscope_redis.errors import GoScopeRedisError
from goscope_redis.keys import validate_prefix


class NotConfiguredError(GoScopeRedisError, RuntimeError):
    """No default Redis is configured for the decorators."""

    def __init__(self) -> None:
        super().__init__(
            "goscope_redis has no default Redis: call goscope_redis.configure(url="
            "'redis://localhost:6379/0', key_prefix='myapp:') at startup, set REDIS_URL, "
            "or pass adapter= to the decorator"
        )


@dataclass
class _Settings:
    url: str | None = None
    key_prefix: str = ""
    serializer: Serializer | None = None
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    sync_adapter: RedisAdapter | None = None  # given by the user: borrowed, never rebuilt
    async_adapter: AsyncRedisAdapter | None = None


class _Defaults:
    """The process-global pools. Rebuilt lazily; dropped in a forked child."""

    def __init__(self) -> None:
        self.settings = _Settings()
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.sync: RedisAdapter | None = None
        self.by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisAdapter] = (
            weakref.WeakKeyDictionary()
        )

    def forget(self) -> None:
        # After fork the inherited sockets belong to the parent: drop them without closing.
        self.pid = os.getpid()
        self.sync = None
        self.by_loop = weakref.WeakKeyDictionary()


_DEFAULTS = _Defaults()
os.register_at_fork(after_in_child=_DEFAULTS.forget)


def configure(
    url: str | None = None,
    key_prefix: str = "",
    serializer: Serializer | None = None,
    *,
    adapter: RedisAdapter | None = None,
    async_adapter: AsyncRedisAdapter | None = None,
    **client_kwargs: Any,
) -> None:
    """Set the process default Redis for decorators: a ``url`` or ready-made adapters."""
    validate_prefix(key_prefix)
    with _DEFAULTS.lock:
        _DEFAULTS.settings = _Settings(
            url, key_prefix, serializer, dict(client_kwargs), adapter, async_adapter
        )
        _DEFAULTS.sync = None
        _DEFAULTS.by_loop = weakref.WeakKeyDictionary()


def _url() -> str:
    url = _DEFAULTS.settings.url or os.environ.get("REDIS_URL")
    if not url:
        raise NotConfiguredError()
    return url


def default_adapter() -> RedisAdapter:
    """The process default sync adapter (created lazily; one pool per process)."""
    settings = _DEFAULTS.settings
    if settings.sync_adapter is not None:
        return settings.sync_adapter
    if _DEFAULTS.pid != os.getpid():
        _DEFAULTS.forget()
    adapter = _DEFAULTS.sync
    if adapter is None:
        with _DEFAULTS.lock:
            adapter = _DEFAULTS.sync
            if adapter is None:
                adapter = RedisAdapter.from_url(
                    _url(),
                    settings.key_prefix,
                    serializer=settings.serializer,
                    **settings.client_kwargs,
                )
                _DEFAULTS.sync = adapter
    return adapter


def default_async_adapter() -> AsyncRedisAdapter:
    """The process default async adapter for the running event loop."""
    settings = _DEFAULTS.settings
    if settings.async_adapter is not None:
        return settings.async_adapter
    if _DEFAULTS.pid != os.getpid():
        _DEFAULTS.forget()
    loop = asyncio.get_running_loop()
    adapter = _DEFAULTS.by_loop.get(loop)
    if adapter is None:
        adapter = AsyncRedisAdapter.from_url(
            _url(), settings.key_prefix, serializer=settings.serializer, **settings.client_kwargs
        )
        _DEFAULTS.by_loop[loop] = adapter
    return adapter


def reset() -> None:
    """Forget the configuration and drop the default pools (for tests)."""
    configure()
