"""Reading a ``CACHES`` entry (``LOCATION`` and ``OPTIONS``) into what the backend runs on.

Upper-case options are ours (and django-redis's, where they mean the same thing); lower-case
options go to redis-py as they are, as with Django's own ``RedisCache``. An unknown upper-case
option is an error, so a typo never silently changes behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from goscope_redis import SerializationError
from goscope_redis.codecs import Codec
from goscope_redis.keys import KeySpace, validate_prefix
from goscope_redis.ops.cache import CacheSpec
from goscope_redis_django.connections import ClientConfig
from goscope_redis_django.errors import CacheSerializationError
from goscope_redis_django.serializers import (
    DEFAULT_MIN_COMPRESS_LEN,
    CompressingSerializer,
    make_compressor,
    make_serializer,
)

CONNECTION_OPTIONS: Final = {
    "SOCKET_TIMEOUT": "socket_timeout",
    "SOCKET_CONNECT_TIMEOUT": "socket_connect_timeout",
    "PASSWORD": "password",
    "USERNAME": "username",
    "MAX_CONNECTIONS": "max_connections",
    "POOL_TIMEOUT": "pool_timeout",
    "HEALTH_CHECK_INTERVAL": "health_check_interval",
}
"""Upper-case spellings (django-redis's) of redis-py keyword arguments; times in seconds."""

_OTHER_CONNECTION_OPTIONS: Final = frozenset(
    {"CONNECTION_POOL_KWARGS", "CLUSTER", "SENTINELS", "SENTINEL_KWARGS"}
)
_CACHE_OPTIONS: Final = frozenset(
    {
        "SERIALIZER",
        "COMPRESSOR",
        "MIN_COMPRESS_LEN",
        "PICKLE_VERSION",
        "SECRET",
        "MAX_VALUE_BYTES",
        "GOSCOPE_KEY_PREFIX",
        "REVERSE_KEY_FUNCTION",
        "IGNORE_EXCEPTIONS",
    }
)
_TOLERATED: Final = frozenset({"CLOSE_CONNECTION", "MAX_ENTRIES", "CULL_FREQUENCY"})
"""Accepted and ignored: pools are process-global, and Redis evicts by its own policy."""
_DEFAULT_CLIENTS: Final = frozenset(
    {"django_redis.client.DefaultClient", "django_redis.client.SentinelClient"}
)


class _DjangoCodec(Codec):
    """The core codec, raising the error Django's contract expects for unstorable values."""

    __slots__ = ()

    def _fail(
        self, key: str, value: Any, reason: str, cause: BaseException | None = None
    ) -> NoReturn:
        """Raise :class:`CacheSerializationError` (nothing is written)."""
        raise CacheSerializationError(SerializationError(key, type(value), reason)) from cause


@dataclass(frozen=True, slots=True)
class CacheRuntime:
    """Everything a backend instance needs, built once per distinct configuration."""

    client: ClientConfig
    spec: CacheSpec
    prefix: str
    ignore_exceptions: bool
    reverse_key: Callable[[str], str] | None
    key_memos: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)
    """Per ``KEY_PREFIX:VERSION:`` head, the backend's bounded Django key -> Redis key memo."""

    def key_memo(self, head: str) -> dict[str, str]:
        """The memo of the caches whose Django keys start with ``head`` (created on first use)."""
        return self.key_memos.setdefault(head, {})


def goscope_settings() -> Mapping[str, Any]:
    """``settings.GOSCOPE_REDIS`` (an empty mapping when unset)."""
    value = getattr(settings, "GOSCOPE_REDIS", None) or {}
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured("settings.GOSCOPE_REDIS must be a dict")
    return value


def check_options(options: Mapping[str, Any], where: str) -> None:
    """Reject unknown upper-case options, naming the valid ones."""
    known = set(CONNECTION_OPTIONS) | _OTHER_CONNECTION_OPTIONS | _CACHE_OPTIONS | _TOLERATED
    for name, value in options.items():
        if name == "CLIENT_CLASS":
            if value not in _DEFAULT_CLIENTS:
                raise ImproperlyConfigured(
                    f"{where}: CLIENT_CLASS {value!r} is not supported; remove it (the backend "
                    "handles plain, Sentinel and Cluster locations itself)"
                )
        elif name.isupper() and name not in known:
            raise ImproperlyConfigured(
                f"{where}: unknown option {name!r}; upper-case options are {sorted(known)}, "
                "and lower-case options go to redis-py as they are"
            )


def client_config(location: str, options: Mapping[str, Any]) -> ClientConfig:
    """The connection part of ``OPTIONS`` for ``location``."""
    kwargs: dict[str, Any] = {}
    for name, value in options.items():
        if name in CONNECTION_OPTIONS:
            kwargs[CONNECTION_OPTIONS[name]] = value
        elif name == "serializer":
            continue  # Django RedisCache's spelling; handled as SERIALIZER
        elif not name.isupper():
            kwargs[name] = import_string(value) if name.endswith("_class") else value
    kwargs.update(options.get("CONNECTION_POOL_KWARGS") or {})
    kwargs.pop("decode_responses", None)  # serializers need bytes
    sentinels = options.get("SENTINELS")
    url = _sentinel_url(location, sentinels) if sentinels else location
    return ClientConfig(
        url,
        kwargs,
        cluster=bool(options.get("CLUSTER", False)),
        sentinel_kwargs=options.get("SENTINEL_KWARGS"),
    )


def _sentinel_url(location: str, sentinels: Any) -> str:
    # django-redis style: LOCATION = "redis://<service>/<db>", OPTIONS["SENTINELS"] = [(h, p)].
    match = re.match(r"(rediss?)://(?:([^@]*)@)?([^/]+)(?:/(\d+))?$", location)
    if match is None:
        raise ImproperlyConfigured(
            f"with OPTIONS['SENTINELS'], LOCATION must be redis://<service_name>[/db], "
            f"not {location!r}"
        )
    scheme, auth, service, db = match.groups()
    hosts = ",".join(f"{host}:{port}" for host, port in sentinels)
    return f"{scheme}+sentinel://{auth + '@' if auth else ''}{hosts}/{service}/{db or 0}"


def single_location(server: Any) -> str:
    """The one Redis location of a ``CACHES`` entry (replica lists are not supported)."""
    servers: list[str] = []
    for item in server if isinstance(server, list | tuple) else (server or "").split(";"):
        # Django splits on commas too; a sentinel location lists its hosts with commas.
        servers += [item] if "+sentinel://" in item else item.split(",")
    servers = [s.strip() for s in servers if s and s.strip()]
    if len(servers) != 1:
        raise ImproperlyConfigured(
            f"LOCATION must name exactly one Redis (got {server!r}); for failover use a "
            "redis+sentinel:// location, for sharding redis+cluster://"
        )
    return str(servers[0])


def cache_runtime(server: Any, options: Mapping[str, Any]) -> CacheRuntime:
    """Build the runtime of one ``CACHES`` entry (called once per distinct configuration)."""
    check_options(options, "CACHES OPTIONS")
    config = client_config(single_location(server), options)
    prefix = options.get("GOSCOPE_KEY_PREFIX", goscope_settings().get("KEY_PREFIX", ""))
    validate_prefix(prefix)
    codec = _DjangoCodec(_serializer(options), options.get("MAX_VALUE_BYTES"))
    spec = CacheSpec(KeySpace(prefix, "cache"), codec, config.cluster)
    reverse = options.get("REVERSE_KEY_FUNCTION")
    return CacheRuntime(
        config,
        spec,
        prefix,
        bool(options.get("IGNORE_EXCEPTIONS", False)),
        import_string(reverse) if isinstance(reverse, str) else reverse,
    )


def secret_key() -> str:
    """``settings.SECRET_KEY``, or ``""`` when unset (Django raises on reading an empty one)."""
    try:
        return str(getattr(settings, "SECRET_KEY", "") or "")
    except ImproperlyConfigured:
        return ""


def _serializer(options: Mapping[str, Any]) -> Any:
    secret = options.get("SECRET") or secret_key()
    spec = options.get("SERIALIZER", options.get("serializer"))
    serializer = make_serializer(spec, secret, options.get("PICKLE_VERSION"))
    compressor = make_compressor(options.get("COMPRESSOR"))
    if compressor is None:
        return serializer
    min_length = options.get("MIN_COMPRESS_LEN", DEFAULT_MIN_COMPRESS_LEN)
    return CompressingSerializer(serializer, compressor, min_length)
