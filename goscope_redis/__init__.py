"""goscope-redis: Redis coordination for Python services.

Atomic locks with fencing tokens, a key-prefixed cache with millisecond TTLs, shared circuit
breakers, task checkpoints and idempotency records: one sans-IO core, a sync and an async face.
"""

from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
from goscope_redis.breaker import AsyncCircuitBreaker, CircuitBreaker
from goscope_redis.checkpoint import Checkpoint
from goscope_redis.codecs import (
    JSONSerializer,
    MsgpackSerializer,
    Serializer,
    SignedPickleSerializer,
)
from goscope_redis.config import NotConfiguredError, configure
from goscope_redis.decorators import cached, circuit, idempotent, with_lock
from goscope_redis.errors import (
    CircuitOpenError,
    GoScopeRedisError,
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
    LockLostError,
    LockNotOwnedError,
    LockTimeoutError,
    ScopeCancelledError,
    SerializationError,
)
from goscope_redis.idempotency import (
    AsyncRedisIdempotencyAdapter,
    Claim,
    IdempotencyRecord,
    RedisIdempotencyAdapter,
)
from goscope_redis.locking import AsyncLockHandle, LockHandle
from goscope_redis.ops.circuit import CircuitBreakerState
from goscope_redis.scope import (
    AsyncScope,
    AsyncTaskHandle,
    Hooks,
    Idempotency,
    Retry,
    Scope,
    TaskContext,
    TaskHandle,
    current_scope,
    scope,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncCircuitBreaker",
    "AsyncLockHandle",
    "AsyncRedisAdapter",
    "AsyncRedisIdempotencyAdapter",
    "AsyncScope",
    "AsyncTaskHandle",
    "Checkpoint",
    "CircuitBreaker",
    "CircuitBreakerState",
    "CircuitOpenError",
    "Claim",
    "GoScopeRedisError",
    "Hooks",
    "Idempotency",
    "IdempotencyInProgressError",
    "IdempotencyMismatchError",
    "IdempotencyRecord",
    "IdempotencyStoredError",
    "JSONSerializer",
    "LockHandle",
    "LockLostError",
    "LockNotOwnedError",
    "LockTimeoutError",
    "MsgpackSerializer",
    "NotConfiguredError",
    "RedisAdapter",
    "RedisIdempotencyAdapter",
    "Retry",
    "Scope",
    "ScopeCancelledError",
    "SerializationError",
    "Serializer",
    "SignedPickleSerializer",
    "TaskContext",
    "TaskHandle",
    "__version__",
    "cached",
    "circuit",
    "configure",
    "current_scope",
    "idempotent",
    "scope",
    "with_lock",
]
