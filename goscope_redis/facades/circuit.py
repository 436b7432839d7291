"""Circuit-breaker facades: the shared state provider and the ``circuit_breaker`` policy."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

from goscope_redis.breaker import AsyncCircuitBreaker, Callback, CircuitBreaker
from goscope_redis.durations import optional_ms, to_ms
from goscope_redis.facades.base import AdapterCore
from goscope_redis.keys import KeySpace, validate_key
from goscope_redis.ops import circuit as ops
from goscope_redis.ops.circuit import BreakerSpec, CircuitBreakerState
from goscope_redis.runner import run_async, run_sync


class _CircuitCore(AdapterCore):
    """Key space and argument validation shared by both faces."""

    @cached_property
    def _circuit_keys(self) -> KeySpace:
        return KeySpace(self._prefix, "circuit")

    def _breaker_spec(
        self,
        name: str,
        failure_threshold: int,
        reset_timeout: Any,
        success_threshold: int,
        half_open_max_calls: int,
        probe_lease: Any,
    ) -> BreakerSpec:
        reset = to_ms(reset_timeout, "reset_timeout")
        return ops.make_spec(
            self._circuit_keys,
            validate_key(name),
            failure_threshold=failure_threshold,
            reset_timeout=reset,
            success_threshold=success_threshold,
            half_open_max_calls=half_open_max_calls,
            probe_lease=optional_ms(probe_lease, "probe_lease") or reset,
        )


def _exclude(name: str, exclude: Any) -> tuple[type[BaseException], ...]:
    items = (exclude,) if isinstance(exclude, type) else tuple(exclude)
    for item in items:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise TypeError(f"circuit {name!r}: exclude must hold exception classes, got {item!r}")
    return items


def _callbacks(
    on_open: Callback | None, on_close: Callback | None, on_half_open: Callback | None
) -> dict[str, Callback | None]:
    return {"open": on_open, "closed": on_close, "half-open": on_half_open}


def _max_failures(key: str, max_failures: object) -> int:
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
        raise ValueError(f"circuit {key!r}: max_failures must be an int >= 1, got {max_failures!r}")
    return max_failures


def _checked_state(key: str, state: object) -> CircuitBreakerState:
    if not isinstance(state, CircuitBreakerState):
        raise TypeError(
            f"circuit {key!r}: set_state needs a CircuitBreakerState, not {type(state).__name__}"
        )
    return state


class SyncCircuitAPI(_CircuitCore):
    """Shared circuit-breaker state and policy (sync)."""

    def get_state(self, key: str) -> CircuitBreakerState | None:
        """The breaker record stored under ``key``, or ``None`` if there is none."""
        return run_sync(ops.get_state(self._circuit_keys, validate_key(key)), self._client)

    def set_state(self, key: str, state: CircuitBreakerState) -> None:
        """Overwrite the record (an operator's override); outstanding probe leases are dropped."""
        op = ops.set_state(self._circuit_keys, validate_key(key), _checked_state(key, state))
        run_sync(op, self._client)

    def record_failure(self, key: str, max_failures: int) -> int:
        """Count one failure atomically; the breaker opens at ``max_failures``. Return the count."""
        limit = _max_failures(key, max_failures)
        return run_sync(
            ops.record_failure(self._circuit_keys, validate_key(key), limit), self._client
        )

    def record_success(self, key: str) -> None:
        """Reset the failure count; a half-open breaker closes, an open one stays open."""
        run_sync(ops.record_success(self._circuit_keys, validate_key(key)), self._client)

    def circuit_breaker(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: Any = 30_000,
        success_threshold: int = 1,
        half_open_max_calls: int = 1,
        exclude: Iterable[type[BaseException]] | type[BaseException] = (),
        on_open: Callback | None = None,
        on_close: Callback | None = None,
        on_half_open: Callback | None = None,
        probe_lease: Any = None,
    ) -> CircuitBreaker:
        """A breaker shared by every process using ``name`` under this prefix.

        ``reset_timeout`` and ``probe_lease`` (default: ``reset_timeout``) are in ms.
        """
        spec = self._breaker_spec(
            name,
            failure_threshold,
            reset_timeout,
            success_threshold,
            half_open_max_calls,
            probe_lease,
        )
        callbacks = _callbacks(on_open, on_close, on_half_open)
        return CircuitBreaker(
            self._client, self._circuit_keys, spec, _exclude(name, exclude), callbacks
        )


class AsyncCircuitAPI(_CircuitCore):
    """Shared circuit-breaker state and policy (async). Same names as the sync API."""

    async def get_state(self, key: str) -> CircuitBreakerState | None:
        """The breaker record stored under ``key``, or ``None`` if there is none."""
        return await run_async(ops.get_state(self._circuit_keys, validate_key(key)), self._client)

    async def set_state(self, key: str, state: CircuitBreakerState) -> None:
        """Overwrite the record (an operator's override); outstanding probe leases are dropped."""
        op = ops.set_state(self._circuit_keys, validate_key(key), _checked_state(key, state))
        await run_async(op, self._client)

    async def record_failure(self, key: str, max_failures: int) -> int:
        """Count one failure atomically; the breaker opens at ``max_failures``. Return the count."""
        limit = _max_failures(key, max_failures)
        op = ops.record_failure(self._circuit_keys, validate_key(key), limit)
        return await run_async(op, self._client)

    async def record_success(self, key: str) -> None:
        """Reset the failure count; a half-open breaker closes, an open one stays open."""
        await run_async(ops.record_success(self._circuit_keys, validate_key(key)), self._client)

    def circuit_breaker(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: Any = 30_000,
        success_threshold: int = 1,
        half_open_max_calls: int = 1,
        exclude: Iterable[type[BaseException]] | type[BaseException] = (),
        on_open: Callback | None = None,
        on_close: Callback | None = None,
        on_half_open: Callback | None = None,
        probe_lease: Any = None,
    ) -> AsyncCircuitBreaker:
        """A breaker shared by every process using ``name`` under this prefix.

        ``reset_timeout`` and ``probe_lease`` (default: ``reset_timeout``) are in ms.
        """
        spec = self._breaker_spec(
            name,
            failure_threshold,
            reset_timeout,
            success_threshold,
            half_open_max_calls,
            probe_lease,
        )
        callbacks = _callbacks(on_open, on_close, on_half_open)
        return AsyncCircuitBreaker(
            self._client, self._circuit_keys, spec, _exclude(name, exclude), callbacks
        )
