"""The adapters configured by ``settings.GOSCOPE_REDIS``, shared per process (and per loop).

``get_adapter()`` is what the sync middleware and views use; ``get_async_adapter()`` is the
running event loop's twin for ASGI. Both borrow the process-global client of
:mod:`goscope_redis_django.connections`, so they never need closing.
"""

from __future__ import annotations

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis_django import connections as conn
from goscope_redis_django.conf import get_config


def get_adapter() -> RedisAdapter:
    """The process's :class:`~goscope_redis.RedisAdapter` for ``GOSCOPE_REDIS``."""
    config = get_config()
    return conn.sync_adapter(config.client, config.prefix)


def get_async_adapter() -> AsyncRedisAdapter:
    """The running loop's :class:`~goscope_redis.AsyncRedisAdapter` for ``GOSCOPE_REDIS``."""
    config = get_config()
    return conn.async_adapter(config.client, config.prefix)
