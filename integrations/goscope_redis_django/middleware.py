"""``ScopeMiddleware`` and ``IdempotencyMiddleware``, each usable under WSGI and ASGI.

Both follow Django's sync-and-async middleware pattern: Django tells the instance, through the
kind of ``get_response`` it receives, which world it runs in, and the instance stays in that
world (no thread hop and no bridging between the two).

```python
MIDDLEWARE = [
    ...,
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # before: keys are per user
    "goscope_redis_django.middleware.ScopeMiddleware",
    "goscope_redis_django.middleware.IdempotencyMiddleware",
    ...,
]
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from goscope_redis import scope
from goscope_redis_django import _idempotency as flow
from goscope_redis_django._http import problem
from goscope_redis_django.adapters import get_adapter, get_async_adapter

GetResponse = Callable[[HttpRequest], Any]


class _DualMiddleware:
    """Django's ``sync_capable``/``async_capable`` plumbing, shared by both middlewares."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.acall(request)
        return self.call(request)

    def call(self, request: HttpRequest) -> HttpResponseBase:
        """The WSGI path."""
        raise NotImplementedError

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        """The ASGI path."""
        raise NotImplementedError


def _cancelled() -> HttpResponseBase:
    # The scope absorbed a deliberate cancellation of the request before a response existed.
    return problem(
        503, "Request cancelled", "The request's scope was cancelled.", "request-cancelled"
    )


class ScopeMiddleware(_DualMiddleware):
    """Runs each request inside a goscope scope, bound as ``request.goscope``.

    Under ASGI it is an :class:`~goscope_redis.AsyncScope` over the running loop's adapter;
    under WSGI a sync :class:`~goscope_redis.Scope`. ``current_scope()`` returns it in the view.
    When the view's response is ready the scope ends: spawned tasks are awaited and the locks
    it still holds are released (a streamed body is produced after that, outside the scope).
    Django's own ``request.scope`` (the ASGI scope dict) is left untouched.
    """

    def call(self, request: HttpRequest) -> HttpResponseBase:
        """WSGI: a sync scope around the rest of the chain."""
        response = None
        with scope(persistence=get_adapter(), name=_name(request)) as s:
            request.goscope = s
            response = self.get_response(request)
        return _cancelled() if response is None else response

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        """ASGI: an async scope around the rest of the chain, in the request's own task."""
        response = None
        async with scope(persistence=get_async_adapter(), name=_name(request)) as s:
            request.goscope = s
            response = await self.get_response(request)
        return _cancelled() if response is None else response


def _name(request: HttpRequest) -> str:
    return f"{request.method} {request.path}"


class IdempotencyMiddleware(_DualMiddleware):
    """The ``Idempotency-Key`` header for the methods in ``GOSCOPE_REDIS["IDEMPOTENCY"]``.

    Same semantics and status codes as the Starlette middleware: 400 for a missing (when
    required) or malformed key, 409 with ``Retry-After`` while the first request runs, 422 for
    the same key with a different request, 413 for a body over ``MAX_BODY_BYTES``; a completed
    request is replayed with ``Idempotent-Replayed: true``. Errors are problem+json. Keys are
    scoped to ``request.user`` (or ``KEY_FUNC``). Views opt out with ``@idempotency_exempt`` or
    change ``REQUIRED`` with ``@idempotency_key(required=...)``.
    """

    def call(self, request: HttpRequest) -> HttpResponseBase:
        """WSGI path."""
        policy = flow.view_policy(request)
        if policy is None:
            return self.get_response(request)
        return flow.handle(request, policy, self.get_response, get_adapter())

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        """ASGI path."""
        policy = flow.view_policy(request)
        if policy is None:
            return await self.get_response(request)
        call: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        return await flow.ahandle(request, policy, call, get_async_adapter().idempotency)
