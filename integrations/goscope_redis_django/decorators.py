"""View decorators: ``@locked``, ``@idempotency_key`` and ``@idempotency_exempt``.

Each works on sync and async views alike; the wrapper is chosen once, at decoration time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest

from goscope_redis import LockTimeoutError
from goscope_redis.decorators._keys import KeyBuilder
from goscope_redis_django import _idempotency as flow
from goscope_redis_django._http import problem
from goscope_redis_django.adapters import get_adapter, get_async_adapter
from goscope_redis_django.locks import lock

F = TypeVar("F", bound=Callable[..., Any])

_LOCK_RETRY_AFTER_S = 1


def _busy(name: str) -> Any:
    return problem(
        409,
        "Resource is locked",
        f"Another request holds the lock {name!r}; retry shortly.",
        "lock-timeout",
        retry_after=_LOCK_RETRY_AFTER_S,
    )


def locked(
    template: str,
    timeout: float | None = None,
    blocking_timeout: float | None = None,
    using: str = "default",
) -> Callable[[F], F]:
    """Run the view under the lock named by ``template`` (``"orders:{order_id}"``).

    The fields are the view's arguments (URL parameters, ``request``...). ``timeout`` is the
    lease and ``blocking_timeout`` the longest wait, in seconds. When the wait runs out the
    view does not run and the client gets 409 problem+json with ``Retry-After``. The held
    handle is ``request.goscope_lock`` (its ``fencing_token`` guards writes).
    """

    def decorate(view: F) -> F:
        keys = KeyBuilder(view, template)
        make = _locked_async if iscoroutinefunction(view) else _locked_sync
        return _wrapped(view, make(view, keys, timeout, blocking_timeout, using))

    return decorate


def _locked_sync(
    view: Callable[..., Any], keys: KeyBuilder, timeout: Any, wait: Any, using: str
) -> Callable[..., Any]:
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        name = keys.build((request, *args), kwargs)
        try:
            with lock(name, timeout, wait, using) as handle:
                request.goscope_lock = handle
                return view(request, *args, **kwargs)
        except LockTimeoutError:
            return _busy(name)

    return sync_view


def _locked_async(
    view: Callable[..., Any], keys: KeyBuilder, timeout: Any, wait: Any, using: str
) -> Callable[..., Any]:
    async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        name = keys.build((request, *args), kwargs)
        try:
            async with lock(name, timeout, wait, using) as handle:
                request.goscope_lock = handle
                return await view(request, *args, **kwargs)
        except LockTimeoutError:
            return _busy(name)

    return async_view


def _wrapped(view: F, wrapper: Callable[..., Any]) -> F:
    wrapper = functools.wraps(view)(wrapper)
    if iscoroutinefunction(view):
        markcoroutinefunction(wrapper)
    return wrapper  # type: ignore[return-value]


def idempotency_exempt(view: F) -> F:
    """``IdempotencyMiddleware`` ignores this view (no key is read, nothing is stored)."""

    @functools.wraps(view)
    def flagged(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    if iscoroutinefunction(view):
        markcoroutinefunction(flagged)
    setattr(flagged, flow.VIEW_FLAG, "exempt")
    return flagged  # type: ignore[return-value]


@overload
def idempotency_key(view: F, *, required: bool = ...) -> F: ...
@overload
def idempotency_key(view: None = ..., *, required: bool = ...) -> Callable[[F], F]: ...
def idempotency_key(view: F | None = None, *, required: bool = True) -> Any:
    """Apply the ``Idempotency-Key`` policy to this view, requiring the header by default.

    With ``IdempotencyMiddleware`` installed this only adjusts ``REQUIRED`` for the view;
    without it the decorator applies the whole policy itself, so the view is never left
    unprotected.
    """

    def decorate(view: F) -> F:
        flag = {"required": required}
        make = _keyed_async if iscoroutinefunction(view) else _keyed_sync
        wrapped = _wrapped(view, make(view, flag))
        setattr(wrapped, flow.VIEW_FLAG, flag)
        return wrapped

    return decorate if view is None else decorate(view)


def _keyed_sync(view: Callable[..., Any], flag: dict[str, bool]) -> Callable[..., Any]:
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        policy = None if _handled(request) else flow.view_policy(request, flag)
        if policy is None:
            return view(request, *args, **kwargs)
        adapter = get_adapter()
        return flow.handle(request, policy, lambda r: view(r, *args, **kwargs), adapter)

    return sync_view


def _keyed_async(view: Callable[..., Any], flag: dict[str, bool]) -> Callable[..., Any]:
    async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        policy = None if _handled(request) else flow.view_policy(request, flag)
        if policy is None:
            return await view(request, *args, **kwargs)

        async def call(req: HttpRequest) -> Any:
            return await view(req, *args, **kwargs)

        return await flow.ahandle(request, policy, call, get_async_adapter().idempotency)

    return async_view


def _handled(request: HttpRequest) -> bool:
    return bool(getattr(request, flow.HANDLED, False))
