"""Typed errors. Every error the library raises on purpose subclasses GoScopeRedisError."""

from __future__ import annotations

import concurrent.futures

__all__ = [
    "CircuitOpenError",
    "GoScopeRedisError",
    "IdempotencyInProgressError",
    "IdempotencyMismatchError",
    "IdempotencyStoredError",
    "LockLostError",
    "LockNotOwnedError",
    "LockTimeoutError",
    "ScopeCancelledError",
    "SerializationError",
]


class GoScopeRedisError(Exception):
    """Base class of every error raised by goscope-redis."""


class LockTimeoutError(GoScopeRedisError, TimeoutError):
    """The lock could not be acquired within ``wait`` milliseconds."""

    def __init__(self, key: str, wait_ms: int | None) -> None:
        self.key = key
        self.wait_ms = wait_ms
        super().__init__(
            f"lock {key!r} was not acquired within {wait_ms} ms; another owner holds it. "
            "Raise `wait`, or check for a stuck holder with force_release() if it is safe."
        )


class LockNotOwnedError(GoScopeRedisError):
    """An operation needed the lock, but the caller's owner token no longer holds it."""

    def __init__(self, key: str, owner: str) -> None:
        self.key = key
        self.owner = owner
        super().__init__(f"lock {key!r} is not held by this owner (it expired or was taken over)")


class LockLostError(GoScopeRedisError):
    """Auto-extension found the lease gone: the protected section ran unprotected."""

    def __init__(self, key: str, fencing_token: int | None = None) -> None:
        self.key = key
        self.fencing_token = fencing_token
        super().__init__(
            f"lock {key!r} (fencing token {fencing_token}) was lost before the block ended; "
            "its work may overlap another holder's. Use the fencing token to reject stale writes."
        )


class CircuitOpenError(GoScopeRedisError):
    """The shared circuit breaker is open; the call was refused without running."""

    def __init__(self, name: str, retry_after: int) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"circuit {name!r} is open; retry after {retry_after} ms")


class IdempotencyInProgressError(GoScopeRedisError):
    """Another call with the same idempotency key is still running."""

    def __init__(self, key: str, retry_after: int | None = None) -> None:
        self.key = key
        self.retry_after = retry_after
        super().__init__(
            f"a call with idempotency key {key!r} is still in progress; retry later"
            + (f" (in about {retry_after} ms)" if retry_after else "")
        )


class IdempotencyMismatchError(GoScopeRedisError):
    """The idempotency key was reused with a different request fingerprint."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used with different arguments; "
            "use a new key for a different request"
        )


class SerializationError(GoScopeRedisError, TypeError):
    """A value could not be serialised (or is larger than ``max_value_bytes``)."""

    def __init__(self, key: str, value_type: type, reason: str) -> None:
        self.key = key
        self.value_type = value_type
        super().__init__(
            f"cannot store value of type {value_type.__qualname__} under key {key!r}: {reason}"
        )


class IdempotencyStoredError(GoScopeRedisError):
    """Replay of a call whose failure was stored (``store_errors=True``): it is not re-run."""

    def __init__(self, key: str, error_type: str, message: str) -> None:
        self.key = key
        self.error_type = error_type
        self.message = message
        super().__init__(
            f"idempotency key {key!r} replays a stored failure: {error_type}: {message}. "
            "Use a new key to try again."
        )


class ScopeCancelledError(GoScopeRedisError, concurrent.futures.CancelledError):
    """The sync scope was cancelled (a sibling failed, a lock was lost, or its timeout passed).

    Raised by ``scope.check()`` so cooperative sync code stops; the scope absorbs it at exit.
    """

    def __init__(self, scope_name: str) -> None:
        self.scope_name = scope_name
        super().__init__(f"scope {scope_name!r} was cancelled")
