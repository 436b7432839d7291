"""The plumbing every method of the cache backend shares: keys, timeouts, clients, runners.

The Django API (``cache.py``) and django-redis's extras (``extras.py``) are both built on it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

import redis.exceptions
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from goscope_redis.effects import Op
from goscope_redis.keys import glob_escape
from goscope_redis.ops.cache import CacheSpec
from goscope_redis.runner import run_async, run_sync
from goscope_redis_django import _ops
from goscope_redis_django import connections as conn
from goscope_redis_django.options import CacheRuntime

logger = logging.getLogger("goscope_redis")

IGNORABLE: Final = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
"""What ``IGNORE_EXCEPTIONS`` swallows: the server is unreachable or slow. Never a
``ResponseError``, which means a bug (wrong type, script error) and must surface."""
RAISE: Final[Any] = object()
"""The ``fallback`` of an operation that raises even under ``IGNORE_EXCEPTIONS``."""
SCAN_COUNT: Final = 1000
KEY_MEMO_SIZE: Final = 4096
"""Most Django keys remembered per cache (see :meth:`BackendCore._keyed`); when full, the memo
starts over. That is 0.8 MB with 30-character keys (2.6 MB at Django's 250-character limit),
and a miss costs only what building the key costs anyway."""
_ONLY_STR: Final = frozenset({str})
_MAX_KEY: Final = 250
_MEMCACHED_UNSAFE: Final = re.compile(r"[\x00-\x20\x7f]")
"""Django's own pattern (``memcached_error_chars_re``), compiled here: Django's copy is a lazy
object whose every use costs about a microsecond, which ``get_many(100)`` would pay 100 times."""


class BackendCore:
    """Keys, timeouts, clients and the two runners, for the ``BaseCache`` subclass."""

    # Set by BaseCache.__init__ and RedisCache.__init__.
    key_prefix: str
    version: int
    default_timeout: float | None
    key_func: Callable[..., Any]
    _runtime: CacheRuntime
    _spec: CacheSpec
    _ignore: bool
    _client: Any
    _generation: int
    _plain_keys: bool
    _plain_validation: bool
    _head: str
    _memo: dict[str, str] | None

    if TYPE_CHECKING:  # provided by BaseCache, which comes later in the MRO

        def make_key(self, key: Any, version: int | None = None) -> str: ...
        def validate_key(self, key: str) -> None: ...

    def _key(self, key: Any, version: int | None = None) -> str:
        if self._plain_keys:
            made = f"{self._head}{key}" if version is None else f"{self.key_prefix}:{version}:{key}"
        else:
            made = self.make_key(key, version=version)
        if not self._plain_validation:
            self.validate_key(made)
        elif len(made) > _MAX_KEY or _MEMCACHED_UNSAFE.search(made):
            self.validate_key(made)  # only now build the warnings Django documents
        return made

    # Key memo. Making a Redis key from a Django key means formatting ``KEY_PREFIX:VERSION:key``,
    # checking it against memcached's rules and wrapping it in the hash tag: about 0.4 µs, which
    # get_many(100) pays 100 times. With Django's own make_key/validate_key the result depends
    # only on the key (and this cache's head and goscope prefix), so a bounded memo of
    # exact-``str`` key -> Redis key skips that. Only keys that pass validation silently are
    # remembered, so a key that warns keeps warning on every call.

    def _keyed(self, key: Any, version: int | None) -> tuple[str, str]:
        """``(Django key, Redis key)`` of ``key``: what _key() makes, and its Redis key."""
        memo = self._memo
        if memo is not None and version is None and key.__class__ is str:
            rkey = memo.get(key)
            return self._head + key, (self._remember(memo, key) if rkey is None else rkey)
        made = self._key(key, version)
        return made, self._spec.keys.key(made)

    def _remember(self, memo: dict[str, str], key: str) -> str:
        made = self._head + key
        rkey = self._spec.keys.key(made)
        if len(made) > _MAX_KEY or _MEMCACHED_UNSAFE.search(made):
            self.validate_key(made)  # warns; never remembered, so it warns every time
        else:
            if len(memo) >= KEY_MEMO_SIZE:
                memo.clear()  # racing threads may each add one more: still bounded
            memo[key] = rkey
        return rkey

    def _keyed_many(self, keys: Sequence[Any], version: int | None) -> list[str] | None:
        """The Redis keys of ``keys`` in order, through the memo; ``None`` when it does not
        apply (another version, a key that is not exactly ``str``): then use _made_keys()."""
        memo = self._memo
        # Exactly str: a str subclass equal to a remembered key may format differently.
        if memo is None or version is not None or set(map(type, keys)) != _ONLY_STR:
            return None
        try:
            return [memo[k] for k in keys]
        except KeyError:  # some not remembered yet
            return [memo.get(k) or self._remember(memo, k) for k in keys]

    def _made_keys(self, keys: Iterable[Any], version: int | None) -> dict[str, Any]:
        if not (self._plain_keys and self._plain_validation):
            return {self._key(k, version): k for k in keys}
        # The same keys as _key() makes, in one loop: get_many(100) would pay 100 calls.
        head = self._head if version is None else f"{self.key_prefix}:{version}:"
        made = {f"{head}{k}": k for k in keys}
        for key in made:
            if len(key) > _MAX_KEY or _MEMCACHED_UNSAFE.search(key):
                self.validate_key(key)
        return made

    def _ms(self, timeout: Any) -> int | None:
        """Django's timeout (seconds) in ms: ``None`` forever, ``EXPIRED`` for 0 or less."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return None
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError(f"cache timeout must be seconds (int or float) or None: {timeout!r}")
        if timeout <= 0:
            return _ops.EXPIRED
        return max(1, round(timeout * 1000))

    def _sync_client(self) -> Any:
        if self._generation != conn.REGISTRY.generation or self._client is None:
            self._client = conn.sync_client(self._runtime.client)
            self._generation = conn.REGISTRY.generation
        return self._client

    def _run(self, op: Op[Any], fallback: Any = RAISE) -> Any:
        try:
            return run_sync(op, self._sync_client())
        except IGNORABLE as exc:
            return self._ignored(exc, fallback)

    async def _arun(self, op: Op[Any], fallback: Any = RAISE) -> Any:
        try:
            return await run_async(op, conn.async_client(self._runtime.client))
        except IGNORABLE as exc:
            return self._ignored(exc, fallback)

    def _ignored(self, exc: BaseException, fallback: Any) -> Any:
        if not self._ignore or fallback is RAISE:
            raise exc
        logger.warning("goscope_redis: cache error ignored (IGNORE_EXCEPTIONS): %r", exc)
        return fallback

    def _pattern(self, pattern: str, version: int | None, prefix: str | None) -> str:
        """A glob over Django-made keys, as django-redis builds it (prefix and version escaped)."""
        prefix = self.key_prefix if prefix is None else prefix
        version = self.version if version is None else version
        return str(self.key_func(pattern, glob_escape(prefix), glob_escape(str(version))))

    def _clear_match(self) -> str:
        made = str(self.key_func("*", glob_escape(self.key_prefix), "*"))
        # A KEY_FUNCTION that hashes the key leaves no wildcard: then clear the whole cache
        # namespace of the goscope prefix, which is all this backend can recognise as its own.
        return self._spec.keys.match(made if "*" in made else None)

    def _user_key(self, redis_key: Any) -> str:
        made = self._spec.keys.user_key(redis_key)
        if self._runtime.reverse_key is not None:
            return self._runtime.reverse_key(made)
        return made.split(":", 2)[2]

    # SCAN walks: the core's sans-IO steps, on every primary of a Cluster in turn (each keeps
    # its own cursor). A walk yields batch by batch, so a huge cache is never held in memory.

    def _matching(self, match: str, count: int) -> Iterator[Any]:
        for node in self._run(_ops.scan_nodes(self._spec.cluster)):
            cursor = 0
            while True:
                cursor, batch = self._run(_ops.scan_step(node, cursor, match, count))
                yield from batch
                if cursor == 0:
                    break

    async def _amatching(self, match: str, count: int) -> AsyncIterator[Any]:
        for node in await self._arun(_ops.scan_nodes(self._spec.cluster)):
            cursor = 0
            while True:
                cursor, batch = await self._arun(_ops.scan_step(node, cursor, match, count))
                for key in batch:
                    yield key
                if cursor == 0:
                    break

    def _delete_matching(self, match: str, count: int, fallback: Any = RAISE) -> int:
        return int(self._run(_ops.scan_delete(self._spec, match, count), fallback))

    async def _adelete_matching(self, match: str, count: int, fallback: Any = RAISE) -> int:
        return int(await self._arun(_ops.scan_delete(self._spec, match, count), fallback))
