"""The Django cache backend against django-redis and Django's own ``RedisCache``, side by side.

``get``, ``set`` and ``get_many(100)`` of a small value, sync and async. Every side pickles
(ours signs the pickle with HMAC-SHA256 on top) and goes through Django's key making
(``KEY_PREFIX:VERSION:key``). The async peers are the thread fallback Django gives every backend
without native ``a*`` methods (``sync_to_async``), which is what django-redis and Django's
``RedisCache`` both use; ours runs on ``redis.asyncio``. Django's ``RedisCache`` builds a client
object per call, as it does in production.

Django is configured in this process on first use (three ``CACHES`` aliases on the bench's
private server); nothing else in the bench touches it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from harness import PREFIX, Case, Comparison, Env, Runner, async_runner, sync_runner

_INTEGRATIONS = str(Path(__file__).resolve().parent.parent / "integrations")
if _INTEGRATIONS not in sys.path:
    sys.path.append(_INTEGRATIONS)

VALUE = {"id": 42, "name": "widget", "price": 9.99, "tags": ["a", "b"], "active": True}
KEY = "user:42"
MANY = [f"item:{i}" for i in range(100)]

BACKENDS = {
    "goscope": "goscope_redis_django.cache.RedisCache",
    "django_redis": "django_redis.cache.RedisCache",
    "django": "django.core.cache.backends.redis.RedisCache",
    "goscope_json": "goscope_redis_django.cache.RedisCache",
    "django_redis_json": "django_redis.cache.RedisCache",
}
OPTIONS: dict[str, dict[str, Any]] = {
    "goscope": {"GOSCOPE_KEY_PREFIX": PREFIX},
    "goscope_json": {"GOSCOPE_KEY_PREFIX": PREFIX, "SERIALIZER": "json"},
    "django_redis_json": {"SERIALIZER": "django_redis.serializers.json.JSONSerializer"},
}
LABELS = {
    "goscope": "goscope RedisCache",
    "django_redis": "django-redis",
    "django": "Django RedisCache",
    "goscope_json": "goscope RedisCache (json)",
    "django_redis_json": "django-redis (json)",
}


def _caches(env: Env) -> Any:
    """Django's cache handler, configured once for this bench process."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="goscope-redis-bench-secret-key-not-for-production",
            INSTALLED_APPS=[],
            CACHES={
                alias: {
                    "BACKEND": backend,
                    "LOCATION": env.url,
                    "KEY_PREFIX": f"bench-{alias}",
                    "TIMEOUT": None,
                    "OPTIONS": OPTIONS.get(alias, {}),
                }
                for alias, backend in BACKENDS.items()
            },
        )
        django.setup()
    from django.core.cache import caches

    return caches


def _seeded(env: Env, alias: str) -> Any:
    cache = _caches(env)[alias]
    cache.set(KEY, VALUE)
    cache.set_many(dict.fromkeys(MANY, VALUE))
    return cache


def sync_case(alias: str, op: str) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A setup timing ``cache.<op>`` of ``alias`` (sync)."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        cache = _seeded(env, alias)
        calls: dict[str, Callable[[], Any]] = {
            "get": lambda: cache.get(KEY),
            "set": lambda: cache.set(KEY, VALUE),
            "get_many": lambda: cache.get_many(MANY),
        }
        yield sync_runner(calls[op])

    return setup


def async_case(alias: str, op: str) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A setup timing ``await cache.a<op>`` of ``alias`` on the bench loop."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        cache = _seeded(env, alias)
        calls: dict[str, Callable[[], Any]] = {
            "get": lambda: cache.aget(KEY),
            "set": lambda: cache.aset(KEY, VALUE),
            "get_many": lambda: cache.aget_many(MANY),
        }
        yield async_runner(env, calls[op])
        if alias == "goscope":
            from goscope_redis_django.connections import REGISTRY

            env.loop.run_until_complete(REGISTRY.aclose_loop())

    return setup


TARGETS = {
    ("get", "django_redis"): 1.0,
    ("set", "django_redis"): 1.0,
    ("get_many", "django_redis"): 4.0,
    ("get", "django"): 2.5,
    ("set", "django"): 2.5,
}
ASYNC_TARGETS = {("get", "django"): 1.5}
"""performance.md: native ``aget`` at least 1.5x Django's thread-wrapped ``aget``."""


def _comparisons() -> list[Comparison]:
    found = []
    for face, make, targets in (
        ("sync", sync_case, TARGETS),
        ("async", async_case, ASYNC_TARGETS),
    ):
        for op in ("get", "set", "get_many"):
            for peer in ("django_redis", "django"):
                many = op == "get_many"
                found.append(
                    Comparison(
                        f"django.{op}{'100' if many else ''}.{face}.vs-{peer.replace('_', '-')}",
                        Case(
                            f"{LABELS['goscope']}.{'a' if face == 'async' else ''}{op}",
                            make("goscope", op),
                        ),
                        Case(
                            f"{LABELS[peer]}.{'a' if face == 'async' else ''}{op}", make(peer, op)
                        ),
                        targets.get((op, peer)),
                        iterations=300 if many else 2000,
                        quick_iterations=10 if many else 60,
                        note="signed pickle vs plain pickle"
                        + ("; peer uses Django's thread fallback" if face == "async" else ""),
                    )
                )
    return found


def _json_comparisons() -> list[Comparison]:
    """Both sides on JSON (no pickle, no signature): what ``SERIALIZER = "json"`` buys."""
    return [
        Comparison(
            f"django.{op}{'100' if op == 'get_many' else ''}.sync.json.vs-django-redis-json",
            Case(f"{LABELS['goscope_json']}.{op}", sync_case("goscope_json", op)),
            Case(f"{LABELS['django_redis_json']}.{op}", sync_case("django_redis_json", op)),
            None,
            iterations=300 if op == "get_many" else 2000,
            quick_iterations=10 if op == "get_many" else 60,
            note="both JSON (ours orjson when installed)",
        )
        for op in ("get", "set", "get_many")
    ]


COMPARISONS = (*_comparisons(), *_json_comparisons())
