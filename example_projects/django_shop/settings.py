"""Settings of the Django shop: no database, goscope-redis for the cache, locks and middleware.

``$REDIS_URL`` and ``$SHOP_PREFIX`` come from the launcher (``example_projects/run.py``).
"""

from __future__ import annotations

import os

from example_projects.shopkit.settings import KEY_PREFIX, REDIS_URL

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-shop-example-only-not-a-real-secret-42")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
USE_TZ = True
ROOT_URLCONF = "example_projects.django_shop.urls"
DATABASES: dict[str, object] = {}  # nothing here needs one
INSTALLED_APPS = ["goscope_redis_django"]  # system checks and `manage.py goscope_redis`
MIDDLEWARE = [
    "example_projects.django_shop.middleware.WorkerPidMiddleware",  # outermost: tags replays too
    "goscope_redis_django.middleware.ScopeMiddleware",  # request.goscope
    "goscope_redis_django.middleware.IdempotencyMiddleware",  # the Idempotency-Key header
]
CACHES = {
    "default": {
        "BACKEND": "goscope_redis_django.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"GOSCOPE_KEY_PREFIX": KEY_PREFIX},
    }
}
GOSCOPE_REDIS = {
    "URL": REDIS_URL,
    "KEY_PREFIX": KEY_PREFIX,
    "IDEMPOTENCY": {"METHODS": ["POST"], "LEASE": 30},  # seconds, Django's unit
}
LOGGING_CONFIG = None
