"""goscope-redis: Redis coordination for Python services.

Atomic locks with fencing tokens, a key-prefixed cache with millisecond TTLs, shared circuit
breakers, task checkpoints and idempotency records: one sans-IO core, a sync and an async face.
"""

from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter
from goscope_redis.codecs import (
    JSONSerializer,
    MsgpackSerializer,
    Serializer,
    SignedPickleSerializer,
)
from goscope_redis.errors import (
    CircuitOpenError,
    GoScopeRedisError,
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    LockLostError,
    LockNotOwnedError,
    LockTimeoutError,
    SerializationError,
)
from goscope_redis.locking import AsyncLockHandle, LockHandle

__version__ = "0.1.0"

__all__ = [
    "AsyncLockHandle",
    "AsyncRedisAdapter",
    "CircuitOpenError",
    "GoScopeRedisError",
    "IdempotencyInProgressError",
    "IdempotencyMismatchError",
    "JSONSerializer",
    "LockHandle",
    "LockLostError",
    "LockNotOwnedError",
    "LockTimeoutError",
    "MsgpackSerializer",
    "RedisAdapter",
    "SerializationError",
    "Serializer",
    "SignedPickleSerializer",
    "__version__",
]
