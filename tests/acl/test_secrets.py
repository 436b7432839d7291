"""Secrets (a password in the URL, the pickle signing key) never show in repr, logs or errors."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import pytest
import redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from goscope_redis import AsyncRedisAdapter, RedisAdapter, SignedPickleSerializer
from goscope_redis.testing import free_port

from .conftest import create_user

PASSWORD = "pw-Sup3rS3cret-7f2a"
PICKLE_KEY = "pickle-key-9c41-do-not-log"
SECRETS = (PASSWORD, PICKLE_KEY)


def _leaks(*texts: object) -> list[str]:
    return [s for s in SECRETS for t in texts if s in str(t)]


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.fixture
def login(acl_server, admin, acl_users, prefix) -> str:
    """A user whose password is ``PASSWORD``; return its URL."""
    name, _ = create_user(admin, prefix)
    acl_users.append(name)
    admin.execute_command("ACL", "SETUSER", name, "resetpass", f">{PASSWORD}")
    return f"redis://{name}:{PASSWORD}@127.0.0.1:{acl_server.port}/0"


def _workload(adapter: RedisAdapter) -> None:
    adapter.set("k", {1, 2})
    assert adapter.get("k") == {1, 2}
    with adapter.lock("job", 3_000):
        pass
    adapter.circuit_breaker("svc").call(lambda: None)


def test_repr_and_logs_of_a_working_adapter_show_no_secret(login, prefix, caplog):
    serializer = SignedPickleSerializer(PICKLE_KEY)
    with caplog.at_level(logging.DEBUG):
        adapter = RedisAdapter.from_url(login, prefix, serializer=serializer)
        _workload(adapter)
        adapter.disconnect()
    texts = [repr(adapter), str(adapter), repr(adapter.client), repr(serializer)]
    texts += [repr(adapter.client.connection_pool), repr(adapter.idempotency)]
    assert _leaks(*texts, caplog.text) == []


def test_a_wrong_password_error_does_not_echo_it(acl_server, prefix, caplog):
    url = f"redis://nobody:{PASSWORD}@127.0.0.1:{acl_server.port}/0"
    adapter = RedisAdapter.from_url(url, prefix)
    with caplog.at_level(logging.DEBUG), pytest.raises(redis.AuthenticationError) as info:
        adapter.get("k")
    assert _leaks(_error_text(info.value), caplog.text) == []
    adapter.disconnect()


def test_unreachable_redis_errors_and_fallback_logs_do_not_echo_it(prefix, caplog):
    url = f"redis://user:{PASSWORD}@127.0.0.1:{free_port()}/0"
    adapter = RedisAdapter.from_url(url, prefix, retry=Retry(NoBackoff(), 0))
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for call in (lambda: adapter.get("k"), lambda: adapter.acquire("job", 1_000)):
            with pytest.raises(redis.ConnectionError) as info:
                call()
            errors.append(info.value)
        assert adapter.circuit_breaker("svc").call(lambda: "ran") == "ran"  # local fallback
    assert "process-local" in caplog.text
    assert _leaks(*map(_error_text, errors), caplog.text) == []
    adapter.disconnect()


def test_async_errors_do_not_echo_it(prefix, caplog):
    async def main() -> list[BaseException]:
        url = f"redis://user:{PASSWORD}@127.0.0.1:{free_port()}/0"
        adapter = AsyncRedisAdapter.from_url(url, prefix, retry=AsyncRetry(NoBackoff(), 0))
        errors = []
        try:
            await adapter.idempotency.begin("charge:1")
        except redis.ConnectionError as exc:
            errors.append(exc)
        await adapter.disconnect()
        return errors

    with caplog.at_level(logging.DEBUG):
        errors = asyncio.run(main())
    assert len(errors) == 1
    assert _leaks(repr(errors), *map(_error_text, errors), caplog.text) == []


def test_a_tampered_pickle_is_a_miss_and_its_key_is_not_logged(login, prefix, admin, caplog):
    adapter: Any = RedisAdapter.from_url(
        login, prefix, serializer=SignedPickleSerializer(PICKLE_KEY)
    )
    adapter.set("k", "original")
    raw_key = f"{prefix}cache:{{k}}"
    admin.set(raw_key, admin.get(raw_key)[:-1] + b"X")  # a writer without the key
    with caplog.at_level(logging.DEBUG):
        assert adapter.get("k", "miss") == "miss"
    with pytest.raises(TypeError) as info:
        adapter.set("k", lambda: None)  # unpicklable: SerializationError
    assert _leaks(caplog.text, _error_text(info.value)) == []
    adapter.disconnect()
