"""Django for ``tests/django`` only: configured when this directory is collected.

``settings.configure()`` runs in this conftest's ``pytest_configure`` (no global
``DJANGO_SETTINGS_MODULE``), so the rest of the suite is untouched. Each test then gets the real
Redis and a fresh goscope prefix through pytest-django's ``settings`` fixture, which also resets
Django's cache handlers and our cached runtimes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis

from tests.django import settings as test_settings


def pytest_configure(config: pytest.Config) -> None:
    test_settings.configure()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (redis.asyncio needs it)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def django_redis(redis_server: Any, prefix: str, settings: Any) -> Iterator[None]:
    """Point every cache alias and GOSCOPE_REDIS at the real server under a fresh prefix."""
    settings.CACHES = test_settings.caches(redis_server.url, prefix)
    settings.GOSCOPE_REDIS = test_settings.goscope(redis_server.url, prefix)
    yield


@pytest.fixture
def raw(redis_server: Any) -> Iterator[redis.Redis]:
    """A plain client, to assert what is really stored."""
    client = redis.Redis(port=redis_server.port)
    yield client
    client.close()


@pytest.fixture
async def aclients() -> AsyncIterator[None]:
    """Close the loop's pooled async clients after an async test."""
    from goscope_redis_django.connections import REGISTRY

    yield
    await REGISTRY.aclose_loop()
