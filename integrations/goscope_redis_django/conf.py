"""``settings.GOSCOPE_REDIS``: where the middleware, locks and checks find Redis.

```python
GOSCOPE_REDIS = {
    "URL": "redis://localhost:6379/0",  # default: $REDIS_URL, else the default cache if ours
    "KEY_PREFIX": "myapp:",
    "OPTIONS": {"SOCKET_TIMEOUT": 5},   # connection options, as in CACHES OPTIONS
    "IDEMPOTENCY": {"METHODS": ["POST", "PATCH"], "HEADER": "Idempotency-Key",
                    "REQUIRED": False, "TTL": 86400, "LEASE": 60,
                    "STORE_SERVER_ERRORS": False, "MAX_BODY_BYTES": 1048576,
                    "KEY_FUNC": None},  # seconds; KEY_FUNC(request) -> principal or None
}
```
Read once and cached; a test that changes the setting (``override_settings``) resets it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from goscope_redis.http_idempotency import DEFAULT_HEADER, DEFAULT_MAX_BODY_BYTES
from goscope_redis.keys import validate_prefix
from goscope_redis_django.connections import ClientConfig
from goscope_redis_django.options import (
    CONNECTION_OPTIONS,
    check_options,
    client_config,
    goscope_settings,
    single_location,
)

BACKEND: Final = "goscope_redis_django.cache.RedisCache"
_TOP_KEYS: Final = frozenset({"URL", "KEY_PREFIX", "OPTIONS", "IDEMPOTENCY"})
_IDEMPOTENCY_KEYS: Final = frozenset(
    {
        "METHODS",
        "HEADER",
        "REQUIRED",
        "TTL",
        "LEASE",
        "STORE_SERVER_ERRORS",
        "MAX_BODY_BYTES",
        "KEY_FUNC",
    }
)
_CONNECTION_ONLY: Final = frozenset(
    {*CONNECTION_OPTIONS, "CONNECTION_POOL_KWARGS", "CLUSTER", "SENTINELS", "SENTINEL_KWARGS"}
)


@dataclass(frozen=True, slots=True)
class IdempotencyPolicy:
    """The ``Idempotency-Key`` policy, with durations already in milliseconds."""

    methods: frozenset[str] = frozenset({"POST", "PATCH"})
    header: str = DEFAULT_HEADER
    required: bool = False
    ttl_ms: int | None = 86_400_000
    lease_ms: int = 60_000
    store_server_errors: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    key_func: Callable[..., Any] | None = None

    @property
    def meta_key(self) -> str:
        """The header's ``request.META`` name (``HTTP_IDEMPOTENCY_KEY``)."""
        return "HTTP_" + self.header.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class GoScopeConfig:
    """What ``GOSCOPE_REDIS`` resolves to."""

    client: ClientConfig
    prefix: str
    idempotency: IdempotencyPolicy


def _seconds_ms(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ImproperlyConfigured(
            f"GOSCOPE_REDIS['IDEMPOTENCY'][{name!r}] must be positive seconds, got {value!r}"
        )
    return max(1, round(value * 1000))


def idempotency_policy(raw: Mapping[str, Any] | None) -> IdempotencyPolicy:
    """Read ``GOSCOPE_REDIS["IDEMPOTENCY"]`` (``None`` or ``{}``: the defaults)."""
    raw = raw or {}
    unknown = set(raw) - _IDEMPOTENCY_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"GOSCOPE_REDIS['IDEMPOTENCY'] has unknown keys {sorted(unknown)}; "
            f"valid keys are {sorted(_IDEMPOTENCY_KEYS)}"
        )
    default = IdempotencyPolicy()
    methods = raw.get("METHODS", default.methods)
    if isinstance(methods, str) or not all(isinstance(m, str) and m for m in methods):
        raise ImproperlyConfigured(f"IDEMPOTENCY['METHODS'] must list method names: {methods!r}")
    key_func = raw.get("KEY_FUNC")
    limit = raw.get("MAX_BODY_BYTES", default.max_body_bytes)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ImproperlyConfigured(f"IDEMPOTENCY['MAX_BODY_BYTES'] must be > 0: {limit!r}")
    return IdempotencyPolicy(
        methods=frozenset(m.upper() for m in methods),
        header=str(raw.get("HEADER", default.header)).strip(),
        required=bool(raw.get("REQUIRED", False)),
        ttl_ms=_seconds_ms(raw.get("TTL", 86_400), "TTL", allow_none=True),
        lease_ms=_seconds_ms(raw.get("LEASE", 60), "LEASE") or default.lease_ms,
        store_server_errors=bool(raw.get("STORE_SERVER_ERRORS", False)),
        max_body_bytes=limit,
        key_func=import_string(key_func) if isinstance(key_func, str) else key_func,
    )


def _client(raw: Mapping[str, Any]) -> ClientConfig:
    options = raw.get("OPTIONS") or {}
    check_options(options, "GOSCOPE_REDIS['OPTIONS']")
    extra = {k for k in options if k.isupper() and k not in _CONNECTION_ONLY}
    if extra:
        raise ImproperlyConfigured(
            f"GOSCOPE_REDIS['OPTIONS'] takes connection options only, not {sorted(extra)}"
        )
    url = raw.get("URL") or os.environ.get("REDIS_URL")
    if url:
        return client_config(url, options)
    default = getattr(settings, "CACHES", {}).get("default", {})
    if default.get("BACKEND") == BACKEND:
        # Share the default cache's pool: same location, same connection options.
        return client_config(single_location(default.get("LOCATION")), default.get("OPTIONS", {}))
    raise ImproperlyConfigured(
        "goscope_redis_django has no Redis: set GOSCOPE_REDIS['URL'] (or $REDIS_URL), or use "
        f"{BACKEND!r} as the default cache"
    )


_CACHED: dict[str, GoScopeConfig] = {}
_LOCK = threading.Lock()


def get_config() -> GoScopeConfig:
    """``GOSCOPE_REDIS`` resolved (cached until the settings change)."""
    found = _CACHED.get("config")
    if found is None:
        with _LOCK:
            raw = goscope_settings()
            unknown = set(raw) - _TOP_KEYS
            if unknown:
                raise ImproperlyConfigured(
                    f"GOSCOPE_REDIS has unknown keys {sorted(unknown)}; valid: {sorted(_TOP_KEYS)}"
                )
            prefix = raw.get("KEY_PREFIX", "")
            validate_prefix(prefix)
            found = GoScopeConfig(_client(raw), prefix, idempotency_policy(raw.get("IDEMPOTENCY")))
            _CACHED["config"] = found
    return found


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in ("GOSCOPE_REDIS", "CACHES"):
        _CACHED.clear()


setting_changed.connect(_forget)
