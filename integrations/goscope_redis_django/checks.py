"""System checks (``manage.py check``), registered by the app config.

* ``goscope_redis.E001``: a goscope key prefix contains a brace (braces are the hash tag).
* ``goscope_redis.E002``: a cache uses the pickle serializer without a secret to sign with.
* ``goscope_redis.E003``: a ``CACHES`` entry or ``GOSCOPE_REDIS`` cannot be read.
* ``goscope_redis.W001``: Redis does not answer ``PING`` (a warning, so that ``migrate`` and
  friends still run while Redis is down).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from goscope_redis_django import connections as conn
from goscope_redis_django.conf import BACKEND, get_config
from goscope_redis_django.options import (
    check_options,
    client_config,
    goscope_settings,
    secret_key,
    single_location,
)
from goscope_redis_django.serializers import DJANGO_REDIS_SERIALIZERS

_PING_TIMEOUT_S = 1.0


def register_all() -> None:
    """Register every check (idempotent: Django's registry keeps a set)."""
    checks.register(check_prefixes, checks.Tags.caches, "goscope_redis")
    checks.register(check_secrets, checks.Tags.caches, "goscope_redis")
    checks.register(check_reachable, checks.Tags.caches, "goscope_redis")


def _our_caches() -> Iterable[tuple[str, Mapping[str, Any]]]:
    for alias, params in getattr(settings, "CACHES", {}).items():
        if params.get("BACKEND") == BACKEND:
            yield alias, params


def _brace_error(prefix: Any, where: str) -> checks.CheckMessage | None:
    if isinstance(prefix, str) and ("{" in prefix or "}" in prefix):
        return checks.Error(
            f"{where} = {prefix!r} contains a brace.",
            hint="Braces are reserved for the Redis Cluster hash tag; use ':' or '.' instead.",
            id="goscope_redis.E001",
        )
    return None


def check_prefixes(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E001: no goscope key prefix may contain ``{`` or ``}``."""
    found = [_brace_error(goscope_settings().get("KEY_PREFIX"), "GOSCOPE_REDIS['KEY_PREFIX']")]
    for alias, params in _our_caches():
        prefix = (params.get("OPTIONS") or {}).get("GOSCOPE_KEY_PREFIX")
        found.append(_brace_error(prefix, f"CACHES[{alias!r}]['OPTIONS']['GOSCOPE_KEY_PREFIX']"))
    return [message for message in found if message is not None]


def check_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E002: the (default) pickle serializer needs ``SECRET_KEY`` or ``OPTIONS['SECRET']``."""
    messages: list[checks.CheckMessage] = []
    for alias, params in _our_caches():
        options = params.get("OPTIONS") or {}
        serializer = options.get("SERIALIZER", options.get("serializer", "pickle"))
        if DJANGO_REDIS_SERIALIZERS.get(serializer, serializer) != "pickle":
            continue
        if not (options.get("SECRET") or secret_key()):
            messages.append(
                checks.Error(
                    f"CACHES[{alias!r}] stores signed pickles but there is no secret to sign "
                    "them with.",
                    hint="Set SECRET_KEY (or OPTIONS['SECRET']), or use "
                    "OPTIONS['SERIALIZER'] = 'json'. Unsigned pickles would let anyone who can "
                    "write to Redis run code in your processes.",
                    id="goscope_redis.E002",
                )
            )
    return messages


def _targets() -> tuple[dict[str, tuple[str, conn.ClientConfig]], list[checks.CheckMessage]]:
    targets: dict[str, tuple[str, conn.ClientConfig]] = {}
    errors: list[checks.CheckMessage] = []
    for alias, params in _our_caches():
        try:
            options = params.get("OPTIONS") or {}
            check_options(options, f"CACHES[{alias!r}]")
            config = client_config(single_location(params.get("LOCATION")), options)
        except (ImproperlyConfigured, ValueError, TypeError, ImportError) as exc:
            errors.append(checks.Error(str(exc), obj=f"CACHES[{alias!r}]", id="goscope_redis.E003"))
            continue
        targets.setdefault(config.key, (f"CACHES[{alias!r}]", config))
    if hasattr(settings, "GOSCOPE_REDIS"):
        try:
            config = get_config().client
            targets.setdefault(config.key, ("GOSCOPE_REDIS", config))
        except (ImproperlyConfigured, ValueError, TypeError, ImportError) as exc:
            errors.append(checks.Error(str(exc), obj="GOSCOPE_REDIS", id="goscope_redis.E003"))
    return targets, errors


def check_reachable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W001 for each distinct Redis that does not answer ``PING`` within a second; E003 for
    settings that cannot be read."""
    targets, messages = _targets()
    for where, config in targets.values():
        problem = _ping(config)
        if problem is not None:
            messages.append(
                checks.Warning(
                    f"{where}: Redis at {redact(config.url)} is unreachable: {problem}",
                    hint="Start Redis, or fix LOCATION / GOSCOPE_REDIS['URL']. Locks and "
                    "idempotency fail closed while Redis is down.",
                    id="goscope_redis.W001",
                )
            )
    return messages


def _ping(config: conn.ClientConfig) -> str | None:
    quick = {"socket_connect_timeout": _PING_TIMEOUT_S, "socket_timeout": _PING_TIMEOUT_S}
    probe = conn.ClientConfig(
        config.url, {**config.kwargs, **quick}, config.cluster, config.sentinel_kwargs
    )
    client: Any = None
    try:
        client = conn.build_sync(probe)
        client.ping()
    except Exception as exc:  # any failure to reach Redis is what this check reports
        return f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    return None


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
