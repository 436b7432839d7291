"""One :class:`~goscope_redis_django.options.CacheRuntime` per distinct cache configuration.

Django builds a backend object per thread, and under ASGI per request context, so parsing
``OPTIONS`` (and deriving the pickle signing key) happens once per configuration instead, and is
forgotten when a test changes the settings it depends on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from django.core.signals import setting_changed

from goscope_redis_django.options import CacheRuntime, cache_runtime

_RUNTIMES: dict[str, CacheRuntime] = {}
_LOCK = threading.Lock()
_WATCHED = frozenset({"CACHES", "GOSCOPE_REDIS", "SECRET_KEY"})


def runtime_for(server: Any, options: Mapping[str, Any]) -> CacheRuntime:
    """The runtime for this ``LOCATION`` and ``OPTIONS`` (built on first use)."""
    key = repr((server, sorted((k, repr(v)) for k, v in options.items())))
    found = _RUNTIMES.get(key)
    if found is None:
        with _LOCK:
            found = _RUNTIMES.get(key)
            if found is None:
                found = _RUNTIMES[key] = cache_runtime(server, options)
    return found


def _forget(*, setting: str, **kwargs: Any) -> None:
    # The runtime depends on SECRET_KEY and GOSCOPE_REDIS as well as on the options themselves.
    if setting in _WATCHED:
        with _LOCK:
            _RUNTIMES.clear()


setting_changed.connect(_forget)
