"""Django settings for the integration tests, applied with ``settings.configure()``.

Only ``tests/django`` configures Django, so the rest of the suite never sees it. Worker
processes (spawned) and the uvicorn app call :func:`configure` themselves.
"""

from __future__ import annotations

from typing import Any

BACKEND = "goscope_redis_django.cache.RedisCache"
SECRET_KEY = "goscope-redis-django-tests-not-a-real-secret-0123456789"


def caches(url: str, prefix: str) -> dict[str, Any]:
    """Two aliases on one Redis and one goscope prefix, told apart by Django's KEY_PREFIX."""
    return {
        "default": {
            "BACKEND": BACKEND,
            "LOCATION": url,
            "KEY_PREFIX": "site",
            "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix},
        },
        "other": {
            "BACKEND": BACKEND,
            "LOCATION": url,
            "KEY_PREFIX": "other",
            "OPTIONS": {"GOSCOPE_KEY_PREFIX": prefix},
        },
    }


def goscope(url: str, prefix: str) -> dict[str, Any]:
    """``GOSCOPE_REDIS`` for the same Redis and prefix (idempotency on, defaults)."""
    return {"URL": url, "KEY_PREFIX": prefix, "IDEMPOTENCY": {"LEASE": 30}}


def base(url: str | None = None, prefix: str = "") -> dict[str, Any]:
    """The settings: ours when a Redis URL is known, a placeholder cache otherwise."""
    conf: dict[str, Any] = {
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": False,
        "ALLOWED_HOSTS": ["*"],
        "USE_TZ": True,
        "INSTALLED_APPS": ["goscope_redis_django"],
        "ROOT_URLCONF": "tests.django.urls",
        "MIDDLEWARE": [
            "tests.django.views.FakeAuthMiddleware",
            "goscope_redis_django.middleware.ScopeMiddleware",
            "goscope_redis_django.middleware.IdempotencyMiddleware",
        ],
        "DATABASES": {},
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        "LOGGING_CONFIG": None,
    }
    if url is not None:
        conf["CACHES"] = caches(url, prefix)
        conf["GOSCOPE_REDIS"] = goscope(url, prefix)
    return conf


def configure(url: str | None = None, prefix: str = "") -> None:
    """Configure and set up Django once per process."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(**base(url, prefix))
        django.setup()
