"""One cache test, two faces: the sync methods, or their native ``a*`` twins.

``AsyncCacheFace`` drives each ``aX`` coroutine to completion on the test's own loop, so the
very same assertions cover both faces (test-only bridging, as in ``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

ASYNC_TWINS = frozenset(
    {
        "add",
        "get",
        "set",
        "touch",
        "delete",
        "get_many",
        "set_many",
        "delete_many",
        "has_key",
        "incr",
        "decr",
        "clear",
        "close",
        "get_or_set",
        "incr_version",
        "decr_version",
        "ttl",
        "pttl",
        "expire",
        "persist",
        "delete_pattern",
        "iter_keys",
    }
)


class AsyncCacheFace:
    """Calls ``cache.a<name>`` for every method that has a native async twin."""

    is_async = True

    def __init__(self, cache: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.cache = cache
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        if name not in ASYNC_TWINS:
            return getattr(self.cache, name)
        twin = getattr(self.cache, "a" + name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = twin(*args, **kwargs)
            if inspect.isasyncgen(result):
                return self._loop.run_until_complete(_collect(result))
            return self._loop.run_until_complete(result)

        return call

    def __contains__(self, key: Any) -> bool:
        return bool(self.has_key(key))


class SyncCacheFace:
    """The cache itself (``iter_keys`` collected into a list, like the async face)."""

    is_async = False

    def __init__(self, cache: Any) -> None:
        self.cache = cache

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.cache, name)
        if name == "iter_keys":
            return lambda *a, **k: list(attr(*a, **k))
        return attr

    def __contains__(self, key: Any) -> bool:
        return key in self.cache


async def _collect(agen: Any) -> list[Any]:
    return [item async for item in agen]
