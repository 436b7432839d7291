"""``get_scope``: the request's scope as a FastAPI dependency (``Depends(get_scope)``)."""

from __future__ import annotations

from starlette.requests import Request

from goscope_redis.scope import AsyncScope


async def get_scope(request: Request) -> AsyncScope:
    """The :class:`~goscope_redis.AsyncScope` that ``GoScopeMiddleware`` bound to ``request``.

    ``async def`` so FastAPI calls it inline instead of in a worker thread. Raises
    ``RuntimeError`` if the middleware is not installed.
    """
    found = request.scope.get("state", {}).get("scope")
    if not isinstance(found, AsyncScope):
        raise RuntimeError(
            "no goscope_redis scope on this request: add "
            "app.add_middleware(GoScopeMiddleware, ...) to the application"
        )
    return found
