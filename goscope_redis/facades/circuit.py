"""Circuit-breaker facades (filled in by the circuit-breaker work)."""

from __future__ import annotations

from goscope_redis.facades.base import AdapterCore


class SyncCircuitAPI(AdapterCore):
    """Shared circuit-breaker state and policy (sync)."""


class AsyncCircuitAPI(AdapterCore):
    """Shared circuit-breaker state and policy (async)."""
