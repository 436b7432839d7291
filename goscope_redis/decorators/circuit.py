"""``@circuit``: guard a function with a circuit breaker shared by every worker process."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from goscope_redis.decorators._resolve import async_resolver, sync_resolver
from goscope_redis.errors import CircuitOpenError

F = TypeVar("F", bound=Callable[..., Any])


def circuit(
    name: str,
    failure_threshold: int = 5,
    reset_timeout: Any = 30_000,
    success_threshold: int = 1,
    half_open_max_calls: int = 1,
    exclude: Iterable[type[BaseException]] | type[BaseException] = (),
    fallback: Callable[..., Any] | None = None,
    *,
    adapter: Any = None,
    **callbacks: Any,
) -> Callable[[F], F]:
    """Count failures of the function in the shared breaker ``name``; refuse while open.

    While open, raise ``CircuitOpenError`` (with ``retry_after`` in ms), or return
    ``fallback(*args, **kwargs)`` when one is given. ``on_open``/``on_close``/``on_half_open``
    callbacks are passed through to the breaker.
    """
    options = dict(
        failure_threshold=failure_threshold, reset_timeout=reset_timeout,
        success_threshold=success_threshold, half_open_max_calls=half_open_max_calls,
        exclude=exclude, **callbacks,
    )  # fmt: skip
    # One breaker object per adapter: it carries the process-local fallback state.
    breakers: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def breaker_for(target: Any) -> Any:
        breaker = breakers.get(target)
        if breaker is None:
            breaker = breakers[target] = target.circuit_breaker(name, **options)
        return breaker

    def decorate(fn: F) -> F:
        if adapter is not None:
            breaker_for(adapter)  # bad thresholds fail at decoration time, not at first call
        if inspect.iscoroutinefunction(fn):
            resolve_async = async_resolver(adapter, fn)

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await breaker_for(resolve_async()).call(fn, *args, **kwargs)
                except CircuitOpenError:
                    if fallback is None:
                        raise
                    result = fallback(*args, **kwargs)
                    return await result if inspect.isawaitable(result) else result

            return cast(F, run_async)
        resolve_sync = sync_resolver(adapter, fn)

        @functools.wraps(fn)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            try:
                return breaker_for(resolve_sync()).call(fn, *args, **kwargs)
            except CircuitOpenError:
                if fallback is None:
                    raise
                return fallback(*args, **kwargs)

        return cast(F, run_sync)

    return decorate
