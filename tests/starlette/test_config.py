"""``IdempotencyConfig`` and ``GoScopeMiddleware`` reject bad configuration at construction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from starlette.applications import Starlette

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis_starlette import GoScopeMiddleware, IdempotencyConfig


def test_defaults_follow_the_api() -> None:
    config = IdempotencyConfig()
    assert config.methods == frozenset({"POST", "PATCH"})
    assert config.header == "Idempotency-Key" and config.header_bytes == b"idempotency-key"
    assert (config.required, config.store_server_errors) == (False, False)
    assert (config.ttl, config.lease, config.max_body_bytes) == (86_400_000, 60_000, 1_048_576)
    assert config.key_func is None


def test_methods_are_normalised_and_durations_accept_timedelta() -> None:
    config = IdempotencyConfig(methods=["post", "put"], ttl=timedelta(hours=1), lease=5_000)
    assert config.methods == frozenset({"POST", "PUT"})
    assert (config.ttl, config.lease) == (3_600_000, 5_000)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"methods": "POST"},
        {"methods": ["POST", ""]},
        {"header": ""},
        {"ttl": 0},
        {"lease": -1},
        {"ttl": True},
        {"max_body_bytes": 0},
        {"max_body_bytes": 1.5},
    ],
)
def test_bad_values_raise_value_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        IdempotencyConfig(**kwargs)


def test_key_func_must_be_callable() -> None:
    with pytest.raises(TypeError, match="key_func"):
        IdempotencyConfig(key_func="user")  # type: ignore[arg-type]


def test_middleware_rejects_a_sync_adapter() -> None:
    adapter = RedisAdapter(redis.Redis())
    with pytest.raises(TypeError, match="AsyncRedisAdapter"):
        GoScopeMiddleware(Starlette(), adapter=adapter)  # type: ignore[arg-type]


def test_middleware_rejects_adapter_together_with_url_or_prefix() -> None:
    adapter = AsyncRedisAdapter(redis.asyncio.Redis())
    with pytest.raises(TypeError, match="either"):
        GoScopeMiddleware(Starlette(), adapter=adapter, url="redis://localhost")
    with pytest.raises(TypeError, match="either"):
        GoScopeMiddleware(Starlette(), adapter=adapter, key_prefix="app:")
    with pytest.raises(TypeError, match="needs url"):
        GoScopeMiddleware(Starlette(), key_prefix="app:")


def test_idempotency_needs_redis() -> None:
    with pytest.raises(TypeError, match="needs Redis"):
        GoScopeMiddleware(Starlette(), idempotency=IdempotencyConfig())
    with pytest.raises(TypeError, match="IdempotencyConfig"):
        GoScopeMiddleware(
            Starlette(),
            adapter=AsyncRedisAdapter(redis.asyncio.Redis()),
            idempotency={"required": True},  # type: ignore[arg-type]
        )


def test_url_creates_an_owned_adapter_with_the_prefix() -> None:
    middleware = GoScopeMiddleware(Starlette(), url="redis://127.0.0.1:1/0", key_prefix="app:")
    assert isinstance(middleware.adapter, AsyncRedisAdapter)
    assert middleware.adapter.owns_client and middleware.adapter.key_prefix == "app:"
