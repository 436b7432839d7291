"""Structured concurrency that carries the persistence adapter: ``scope()``.

``async with scope(persistence=adapter) as s:`` gives a block whose spawned tasks cannot
outlive it (on asyncio the block's own task plus a task set made on the first spawn; on trio an
anyio task group), plus the adapter's locks (released at exit at the latest), cache, shared
circuit breakers, and tasks with idempotency, checkpoints, retries and timeouts. With a
``RedisAdapter`` the same helpers work in ``with scope(...) as s:`` for sync code.
"""

from goscope_redis.scope._async import AsyncScope
from goscope_redis.scope._checkpoint import AsyncCheckpointer, SyncCheckpointer, TaskContext
from goscope_redis.scope._context import current_scope
from goscope_redis.scope._factory import UnboundScope, scope
from goscope_redis.scope._handles import AsyncTaskHandle, TaskHandle
from goscope_redis.scope._hooks import EVENTS, Hooks
from goscope_redis.scope._locks import AsyncScopeLock, SyncScopeLock
from goscope_redis.scope._options import Idempotency, Retry
from goscope_redis.scope._sync import Scope

__all__ = [
    "EVENTS",
    "AsyncCheckpointer",
    "AsyncScope",
    "AsyncScopeLock",
    "AsyncTaskHandle",
    "Hooks",
    "Idempotency",
    "Retry",
    "Scope",
    "SyncCheckpointer",
    "SyncScopeLock",
    "TaskContext",
    "TaskHandle",
    "UnboundScope",
    "current_scope",
    "scope",
]
