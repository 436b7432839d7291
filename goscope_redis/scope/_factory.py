"""``scope(...)``: picks the sync or the async scope from the persistence adapter."""

from __future__ import annotations

from types import TracebackType
from typing import Any, overload

from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
from goscope_redis.scope._async import AsyncScope
from goscope_redis.scope._hooks import Hooks
from goscope_redis.scope._sync import Scope


class UnboundScope:
    """A scope without persistence: ``async with`` gives an :class:`AsyncScope`, ``with`` a
    :class:`Scope` (only the structured-concurrency part, no locks or cache)."""

    __slots__ = ("_async", "_sync")

    def __init__(self, **options: Any) -> None:
        # Both are built now so bad options fail here, not at `with`.
        self._async = AsyncScope(None, **options)
        self._sync = Scope(None, **options)

    async def __aenter__(self) -> AsyncScope:
        return await self._async.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return await self._async.__aexit__(exc_type, exc, tb)

    def __enter__(self) -> Scope:
        return self._sync.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self._sync.__exit__(exc_type, exc, tb)


@overload
def scope(
    persistence: AsyncRedisAdapter,
    *,
    name: str | None = ...,
    timeout: Any = ...,
    concurrency: int | None = ...,
    hooks: Hooks | None = ...,
) -> AsyncScope: ...
@overload
def scope(
    persistence: RedisAdapter,
    *,
    name: str | None = ...,
    timeout: Any = ...,
    concurrency: int | None = ...,
    hooks: Hooks | None = ...,
) -> Scope: ...
@overload
def scope(
    persistence: None = ...,
    *,
    name: str | None = ...,
    timeout: Any = ...,
    concurrency: int | None = ...,
    hooks: Hooks | None = ...,
) -> UnboundScope: ...
def scope(
    persistence: AsyncRedisAdapter | RedisAdapter | None = None,
    *,
    name: str | None = None,
    timeout: Any = None,
    concurrency: int | None = None,
    hooks: Hooks | None = None,
) -> AsyncScope | Scope | UnboundScope:
    """A scope carrying ``persistence``: ``async with`` for an ``AsyncRedisAdapter``, ``with``
    for a ``RedisAdapter``. ``timeout`` is in ms; ``concurrency`` caps the spawned tasks that
    run at once; ``hooks`` receives the scope's events (child scopes report to it too)."""
    options: dict[str, Any] = {
        "name": name,
        "timeout": timeout,
        "concurrency": concurrency,
        "hooks": hooks,
    }
    if persistence is None:
        return UnboundScope(**options)
    if isinstance(persistence, RedisAdapter):
        return Scope(persistence, **options)
    return AsyncScope(persistence, **options)  # raises TypeError for anything else
