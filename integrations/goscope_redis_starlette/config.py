"""``IdempotencyConfig``: which requests the ``Idempotency-Key`` header applies to, and how."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from goscope_redis.durations import to_ms
from goscope_redis.http_idempotency import DEFAULT_HEADER, DEFAULT_MAX_BODY_BYTES

KeyFunc = Callable[[Request], "str | int | Awaitable[str | int | None] | None"]
"""Returns the principal (user id, API key id...) a request's keys are scoped to, or ``None``."""


@dataclass(frozen=True, slots=True)
class IdempotencyConfig:
    """The ``Idempotency-Key`` policy of :class:`~goscope_redis_starlette.GoScopeMiddleware`.

    * ``methods``: the methods the header applies to; others pass through untouched.
    * ``header``: the header's name. ``required=True`` answers 400 to a request without it.
    * ``ttl``: how long a stored response is replayed (ms or ``timedelta``; default one day).
    * ``lease``: how long a running request holds its key (ms); a duplicate gets 409 meanwhile.
      Keep it above your slowest handler: once it runs out, a duplicate may run again.
    * ``key_func(request)``: the principal the key is scoped to (sync or async; ``None``: none).
    * ``store_server_errors``: also store (and replay) 5xx responses.
    * ``max_body_bytes``: the largest request body buffered for the fingerprint (larger: 413)
      and the largest response stored (larger: passed through, ``Idempotency-Stored: false``).
    """

    methods: Iterable[str] = ("POST", "PATCH")
    header: str = DEFAULT_HEADER
    required: bool = False
    ttl: Any = 86_400_000
    lease: Any = 60_000
    key_func: KeyFunc | None = None
    store_server_errors: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    header_bytes: bytes = field(init=False, repr=False, compare=False)
    """The header name as ASGI spells it (lowercase latin-1 bytes)."""

    def __post_init__(self) -> None:
        methods = self.methods
        if isinstance(methods, str) or not all(isinstance(m, str) and m for m in methods):
            raise ValueError(f"methods must be a collection of method names, got {methods!r}")
        _set(self, "methods", frozenset(m.upper() for m in methods))
        if not isinstance(self.header, str) or not self.header.strip():
            raise ValueError(f"header must be a non-empty header name, got {self.header!r}")
        _set(self, "header_bytes", self.header.strip().lower().encode("latin-1"))
        _set(self, "ttl", to_ms(self.ttl, "ttl"))
        _set(self, "lease", to_ms(self.lease, "lease"))
        if self.key_func is not None and not callable(self.key_func):
            raise TypeError(f"key_func must be callable(request), got {self.key_func!r}")
        limit = self.max_body_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"max_body_bytes must be a positive int, got {limit!r}")


def _set(config: IdempotencyConfig, name: str, value: object) -> None:
    # Normalised in place on a frozen dataclass: what the caller sees is what is enforced.
    object.__setattr__(config, name, value)
