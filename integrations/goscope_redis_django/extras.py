"""django-redis's extras, with its names, signatures and units (seconds), sync and async:
``ttl``, ``pttl``, ``expire``, ``persist``, ``delete_pattern``, ``iter_keys``, ``keys``, ``lock``.
"""

# The async twins keep django-redis's argument name `timeout`.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from goscope_redis.effects import Op
from goscope_redis_django import _ops
from goscope_redis_django._backend import SCAN_COUNT, BackendCore
from goscope_redis_django.locks import CacheLock


class DjangoRedisExtras(BackendCore):
    """The methods django-redis users expect on ``cache``, beyond Django's API."""

    def _expire_op(self, key: Any, timeout: Any, version: int | None) -> Op[bool]:
        return _ops.expire(self._spec, self._key(key, version), self._ms(timeout))

    def ttl(self, key: Any, version: int | None = None) -> int | None:
        """Seconds left (rounded up); ``None`` without expiry; 0 for a missing key."""
        return self._run(_ops.ttl(self._spec, self._key(key, version)))  # type: ignore[no-any-return]

    def pttl(self, key: Any, version: int | None = None) -> int | None:
        """Milliseconds left; ``None`` without expiry; 0 for a missing key."""
        return self._run(_ops.pttl(self._spec, self._key(key, version)))  # type: ignore[no-any-return]

    def expire(self, key: Any, timeout: Any, version: int | None = None) -> bool:
        """Set the timeout of an existing key (seconds; ``None`` removes the expiry)."""
        return bool(self._run(self._expire_op(key, timeout, version)))

    def persist(self, key: Any, version: int | None = None) -> bool:
        """Remove the expiry of ``key``; True if it had one."""
        return bool(self._run(_ops.persist(self._spec, self._key(key, version))))

    def delete_pattern(
        self,
        pattern: str,
        version: int | None = None,
        prefix: str | None = None,
        itersize: int | None = None,
    ) -> int:
        """Delete the keys matching the glob ``pattern`` (``SCAN`` + ``UNLINK``); the count."""
        match = self._spec.keys.match(self._pattern(pattern, version, prefix))
        return self._delete_matching(match, itersize or SCAN_COUNT)

    def iter_keys(
        self, search: str, itersize: int | None = None, version: int | None = None
    ) -> Iterator[str]:
        """Yield the keys matching the glob ``search``, without prefix or version (``SCAN``)."""
        match = self._spec.keys.match(self._pattern(search, version, None))
        for redis_key in self._matching(match, itersize or SCAN_COUNT):
            yield self._user_key(redis_key)

    def keys(self, search: str, version: int | None = None) -> list[str]:
        """Every key matching ``search`` (through ``SCAN``, never ``KEYS``)."""
        return list(self.iter_keys(search, version=version))

    def lock(
        self,
        key: str,
        version: int | None = None,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        thread_local: bool = True,
        *,
        auto_extend: bool = True,
    ) -> CacheLock:
        """A distributed lock (seconds), usable with ``with`` and ``async with``.

        ``timeout`` is the lease (default 30 s), renewed while held unless
        ``auto_extend=False``. Waiters are woken on release, so ``sleep`` and ``thread_local``
        (django-redis's polling and token storage) are accepted and unused.
        """
        name = self._key(key, version)
        return CacheLock(self._runtime, name, timeout, blocking, blocking_timeout, auto_extend)

    async def attl(self, key: Any, version: int | None = None) -> int | None:
        """Async :meth:`ttl`."""
        return await self._arun(_ops.ttl(self._spec, self._key(key, version)))  # type: ignore[no-any-return]

    async def apttl(self, key: Any, version: int | None = None) -> int | None:
        """Async :meth:`pttl`."""
        return await self._arun(_ops.pttl(self._spec, self._key(key, version)))  # type: ignore[no-any-return]

    async def aexpire(self, key: Any, timeout: Any, version: int | None = None) -> bool:
        """Async :meth:`expire`."""
        return bool(await self._arun(self._expire_op(key, timeout, version)))

    async def apersist(self, key: Any, version: int | None = None) -> bool:
        """Async :meth:`persist`."""
        return bool(await self._arun(_ops.persist(self._spec, self._key(key, version))))

    async def adelete_pattern(
        self,
        pattern: str,
        version: int | None = None,
        prefix: str | None = None,
        itersize: int | None = None,
    ) -> int:
        """Async :meth:`delete_pattern`."""
        match = self._spec.keys.match(self._pattern(pattern, version, prefix))
        return await self._adelete_matching(match, itersize or SCAN_COUNT)

    async def aiter_keys(
        self, search: str, itersize: int | None = None, version: int | None = None
    ) -> AsyncIterator[str]:
        """Async :meth:`iter_keys`."""
        match = self._spec.keys.match(self._pattern(search, version, None))
        async for redis_key in self._amatching(match, itersize or SCAN_COUNT):
            yield self._user_key(redis_key)
