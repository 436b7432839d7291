"""Starlette and FastAPI integration of goscope-redis.

``app.add_middleware(GoScopeMiddleware, adapter=aadapter, idempotency=IdempotencyConfig())``
gives every HTTP request its own :class:`~goscope_redis.AsyncScope` (``request.state.scope``,
``current_scope()``, FastAPI's ``Depends(get_scope)``) and implements the ``Idempotency-Key``
header. Pure ASGI, so context variables and streaming work.
"""

from goscope_redis_starlette.config import IdempotencyConfig, KeyFunc
from goscope_redis_starlette.dependencies import get_scope
from goscope_redis_starlette.middleware import GoScopeMiddleware

__all__ = ["GoScopeMiddleware", "IdempotencyConfig", "KeyFunc", "get_scope"]
