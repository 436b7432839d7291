"""The app config: registers the system checks."""

from __future__ import annotations

from django.apps import AppConfig


class GoScopeRedisConfig(AppConfig):  # type: ignore[misc]  # Django is untyped
    """``INSTALLED_APPS += ["goscope_redis_django"]``."""

    name = "goscope_redis_django"
    label = "goscope_redis_django"
    verbose_name = "goscope-redis"

    def ready(self) -> None:
        """Register the checks (importing the module registers them)."""
        from goscope_redis_django import checks

        checks.register_all()
