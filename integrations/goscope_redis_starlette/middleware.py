"""``GoScopeMiddleware``: a pure-ASGI middleware that gives every HTTP request its own scope and
implements the ``Idempotency-Key`` header.

Pure ASGI on purpose (never ``BaseHTTPMiddleware``): the app runs in the request's own task, so
the scope bound by ``current_scope()`` (a ``ContextVar``) is visible in the handler, and
streaming responses stream. Per HTTP request:

* methods covered by ``idempotency`` with a key: validate, fingerprint, claim, then replay,
  refuse or run once (see :mod:`goscope_redis_starlette._gate`);
* everything else: run the app in a fresh scope; no Redis round trip at all.

``websocket`` and other scopes pass through untouched. ``lifespan`` passes through too, except
that an adapter the middleware created (``url=``) is opened on startup and closed on shutdown.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis_starlette._gate import IdempotencyGate
from goscope_redis_starlette._lifespan import run_lifespan
from goscope_redis_starlette._request_scope import run_in_scope
from goscope_redis_starlette.config import IdempotencyConfig


class GoScopeMiddleware:
    """``app.add_middleware(GoScopeMiddleware, adapter=aadapter, idempotency=IdempotencyConfig())``.

    Pass an ``AsyncRedisAdapter`` (borrowed: you open and close it), or ``url=`` and
    ``key_prefix=`` to let the middleware create one for the app's lifetime. With neither, the
    request scopes carry no persistence and ``idempotency`` is unavailable.
    """

    def __init__(
        self,
        app: ASGIApp,
        adapter: AsyncRedisAdapter | None = None,
        url: str | None = None,
        key_prefix: str = "",
        idempotency: IdempotencyConfig | None = None,
    ) -> None:
        self.app = app
        self.adapter = _adapter(adapter, url, key_prefix)
        self._owns_adapter = adapter is None and self.adapter is not None
        self._gate = _gate(self.adapter, idempotency)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            gate = self._gate
            if gate is not None and gate.applies(scope):
                await gate.handle(scope, receive, send, self._run)
            else:
                # No key: straight to the app in its scope, no Redis and no extra await layer.
                await run_in_scope(self.app, self.adapter, scope, receive, send)
        elif kind == "lifespan" and self._owns_adapter:
            assert self.adapter is not None
            await run_lifespan(self.app, self.adapter, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        await run_in_scope(self.app, self.adapter, scope, receive, send)


def _adapter(
    adapter: AsyncRedisAdapter | None, url: str | None, key_prefix: str
) -> AsyncRedisAdapter | None:
    if adapter is not None:
        if url is not None or key_prefix:
            raise TypeError(
                "pass either adapter= or url= (with key_prefix=), not both: the adapter "
                "already has its own connection and key prefix"
            )
        if not isinstance(adapter, AsyncRedisAdapter):
            raise TypeError(
                f"GoScopeMiddleware needs an AsyncRedisAdapter, got {type(adapter).__name__}; "
                "a sync adapter would block the event loop"
            )
        return adapter
    if url is not None:
        return AsyncRedisAdapter.from_url(url, key_prefix=key_prefix)
    if key_prefix:
        raise TypeError("key_prefix= needs url= (an adapter= brings its own prefix)")
    return None


def _gate(
    adapter: AsyncRedisAdapter | None, config: IdempotencyConfig | None
) -> IdempotencyGate | None:
    if config is None:
        return None
    if not isinstance(config, IdempotencyConfig):
        raise TypeError(f"idempotency= must be an IdempotencyConfig, got {config!r}")
    if adapter is None:
        raise TypeError("idempotency= needs Redis: pass adapter= or url=")
    return IdempotencyGate(adapter.idempotency, config)
