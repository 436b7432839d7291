"""goscope-redis for Django: a ``CACHES`` backend with native async, a lock backend, system
checks, a management command, and scope and ``Idempotency-Key`` middleware.

* ``CACHES[...]["BACKEND"] = "goscope_redis_django.cache.RedisCache"``
* ``goscope_redis_django.locks.lock(name, timeout=, blocking_timeout=, using="default")``
* ``MIDDLEWARE += ["goscope_redis_django.middleware.ScopeMiddleware",
  "goscope_redis_django.middleware.IdempotencyMiddleware"]``
* ``INSTALLED_APPS += ["goscope_redis_django"]`` for the checks and ``manage.py goscope_redis``.

Settings are Django's units (seconds); see ``docs/django.md``.
"""
