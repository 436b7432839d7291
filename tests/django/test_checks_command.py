"""System checks and ``manage.py goscope_redis``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError

from goscope_redis import RedisAdapter
from goscope_redis.testing import free_port
from goscope_redis_django import checks
from tests.django import settings as test_settings


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_a_healthy_configuration_has_no_findings() -> None:
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()
    assert checks.check_prefixes() == checks.check_secrets() == checks.check_reachable() == []


def test_prefix_with_braces_is_an_error(settings: Any, redis_server: Any) -> None:
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "KEY_PREFIX": "app{1}:"}
    caches_conf = test_settings.caches(redis_server.url, "x{y}:")
    settings.CACHES = caches_conf
    found = checks.check_prefixes()
    assert ids(found) == ["goscope_redis.E001"] * 3
    assert "app{1}:" in found[0].msg


def test_pickle_without_a_secret_is_an_error(settings: Any) -> None:
    settings.SECRET_KEY = ""
    assert ids(checks.check_secrets()) == ["goscope_redis.E002", "goscope_redis.E002"]
    settings.CACHES = {
        alias: {**conf, "OPTIONS": {**conf["OPTIONS"], "SERIALIZER": "json"}}
        for alias, conf in settings.CACHES.items()
    }
    assert checks.check_secrets() == []


def test_unreachable_redis_is_a_warning_without_the_password(settings: Any, prefix: str) -> None:
    dead = f"redis://user:s3cret@127.0.0.1:{free_port()}/0"
    settings.CACHES = test_settings.caches(dead, prefix)
    settings.GOSCOPE_REDIS = test_settings.goscope(dead, prefix)
    found = checks.check_reachable()
    assert ids(found) == ["goscope_redis.W001"]  # one Redis, reported once
    assert "s3cret" not in found[0].msg
    assert "***" in found[0].msg


def test_unreadable_options_are_reported(settings: Any) -> None:
    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "OPTIONS": {"NOT_AN_OPTION": 1}}}
    assert "goscope_redis.E003" in ids(checks.check_reachable())


# --- manage.py goscope_redis --------------------------------------------------------------------


def test_status_counts_records_under_the_prefix(redis_server: Any, prefix: str) -> None:
    client = redis.Redis(port=redis_server.port)
    adapter = RedisAdapter(client, prefix)
    handle = adapter.acquire("orders:1", 10_000)
    assert handle is not None
    breaker = adapter.circuit_breaker("payments", failure_threshold=1)
    with pytest.raises(RuntimeError):
        breaker.call(_fail)
    adapter.circuit_breaker("search").call(lambda: None)
    adapter.idempotency.begin("charge:1", lease=10_000)
    caches["default"].set("k", 1)
    out = io.StringIO()
    call_command("goscope_redis", "status", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["prefix"] == prefix
    assert doc["version"].split(".")[0] >= "6"
    assert doc["locks"] == 1
    assert doc["cache_keys"] == 1
    assert doc["breakers"].get("open") == 1
    assert doc["idempotency"] == {"in_progress": 1}
    client.close()


def _fail() -> None:
    raise RuntimeError("down")


def test_status_in_text(capsys: Any) -> None:
    out = io.StringIO()
    call_command("goscope_redis", "status", stdout=out)
    assert "ping_ms" in out.getvalue()


def test_status_of_an_unreachable_redis_is_a_command_error(settings: Any, prefix: str) -> None:
    settings.GOSCOPE_REDIS = {"URL": f"redis://127.0.0.1:{free_port()}/0", "KEY_PREFIX": prefix}
    with pytest.raises(CommandError, match="unreachable"):
        call_command("goscope_redis", "status", stdout=io.StringIO())


def test_clear_cache_clears_the_chosen_aliases_only() -> None:
    caches["default"].set("k", 1)
    caches["other"].set("k", 2)
    out = io.StringIO()
    call_command("goscope_redis", "clear-cache", "--alias", "default", stdout=out)
    assert "1 keys deleted" in out.getvalue()
    assert (caches["default"].get("k"), caches["other"].get("k")) == (None, 2)
    call_command("goscope_redis", "clear-cache", stdout=out)
    assert caches["other"].get("k") is None
    with pytest.raises(CommandError, match="not goscope caches"):
        call_command("goscope_redis", "clear-cache", "--alias", "nope", stdout=out)
