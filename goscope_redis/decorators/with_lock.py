"""``@with_lock``: run a function while holding a shared Redis lock."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from goscope_redis.decorators._keys import KeyBuilder
from goscope_redis.decorators._resolve import async_resolver, sync_resolver
from goscope_redis.durations import to_ms, wait_ms
from goscope_redis.errors import LockLostError

F = TypeVar("F", bound=Callable[..., Any])


def with_lock(
    key: str,
    ttl: Any = 30_000,
    wait: Any = None,
    auto_extend: bool = True,
    *,
    handle_arg: str | None = None,
    adapter: Any = None,
) -> Callable[[F], F]:
    """Hold the lock ``key`` (a template over the arguments) while the function runs.

    Raises ``LockTimeoutError`` after ``wait`` ms. A lease lost during the call raises
    ``LockLostError``; an async function is cancelled at once. With ``handle_arg="lock"`` the
    function receives the ``LockHandle`` (and its ``fencing_token``) as that keyword argument.
    """
    ttl_ms, wait_for = to_ms(ttl), wait_ms(wait)

    def decorate(fn: F) -> F:
        keys = KeyBuilder(fn, key, exclude=(handle_arg,) if handle_arg else ())
        if handle_arg and handle_arg not in inspect.signature(fn).parameters:
            raise ValueError(f"{fn.__qualname__} has no parameter {handle_arg!r} for handle_arg")
        if inspect.iscoroutinefunction(fn):
            resolve_async = async_resolver(adapter, fn)

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                name = keys.build(args, _without(kwargs, handle_arg))
                return await _call_async(
                    fn,
                    resolve_async(),
                    name,
                    ttl_ms,
                    wait_for,
                    auto_extend,
                    handle_arg,
                    args,
                    kwargs,
                )

            return run_async  # type: ignore[return-value]
        resolve_sync = sync_resolver(adapter, fn)

        @functools.wraps(fn)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            name = keys.build(args, _without(kwargs, handle_arg))
            with resolve_sync().lock(name, ttl_ms, wait=wait_for, auto_extend=auto_extend) as h:
                if handle_arg:
                    kwargs[handle_arg] = h
                return fn(*args, **kwargs)

        return run_sync  # type: ignore[return-value]

    return decorate


def _without(kwargs: dict[str, Any], name: str | None) -> dict[str, Any]:
    if name is None or name not in kwargs:
        return kwargs
    return {k: v for k, v in kwargs.items() if k != name}


async def _call_async(
    fn: Callable[..., Any],
    adapter: Any,
    name: str,
    ttl_ms: int,
    wait_for: int | None,
    auto_extend: bool,
    handle_arg: str | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    task = asyncio.current_task()
    lost: list[Any] = []

    def on_lost(handle: Any) -> None:
        # Work must not go on unprotected: cancel the call, then report why.
        lost.append(handle)
        if task is not None:
            task.cancel()

    try:
        ctx = adapter.lock(name, ttl_ms, wait=wait_for, auto_extend=auto_extend, on_lost=on_lost)
        async with ctx as handle:
            if handle_arg:
                kwargs[handle_arg] = handle
            return await fn(*args, **kwargs)
    except asyncio.CancelledError:
        if lost and task is not None and task.uncancel() == 0:
            raise LockLostError(name, lost[0].fencing_token) from None
        raise
