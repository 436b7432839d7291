"""Pick the adapter a decorated function uses: ``adapter=``, else the process default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
from goscope_redis.config import default_adapter, default_async_adapter


def sync_resolver(adapter: Any, fn: Callable[..., Any]) -> Callable[[], RedisAdapter]:
    """A zero-argument callable returning the sync adapter for ``fn``."""
    if adapter is None:
        return default_adapter
    if not isinstance(adapter, RedisAdapter):
        raise TypeError(
            f"{fn.__qualname__} is a sync function; pass a RedisAdapter, "
            f"not {type(adapter).__name__}"
        )
    return lambda: adapter


def async_resolver(adapter: Any, fn: Callable[..., Any]) -> Callable[[], AsyncRedisAdapter]:
    """A zero-argument callable returning the async adapter for ``fn`` (per event loop)."""
    if adapter is None:
        return default_async_adapter
    if not isinstance(adapter, AsyncRedisAdapter):
        raise TypeError(
            f"{fn.__qualname__} is a coroutine function; pass an AsyncRedisAdapter, "
            f"not {type(adapter).__name__}"
        )
    return lambda: adapter
