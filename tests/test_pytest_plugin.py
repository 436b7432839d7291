"""The pytest plugin for users (goscope_redis.testing), tested as users run it: pytester.

Each test writes a user's test file, runs pytest on it in-process, and checks the outcomes.
The plugin is requested through ``pytest_plugins`` in the user's conftest, which is harmless
when the installed entry point has loaded it already (both use the module's name).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
import redis

from goscope_redis.testing import RedisServer

pytest_plugins = ["pytester"]

# Our own suite runs pytest-django; a user project without Django must not inherit it.
NO_DJANGO = ("-p", "no:django")

PLUGIN_CONFTEST = 'pytest_plugins = ["goscope_redis.testing"]\n'

USER_TESTS = """
import pytest
from goscope_redis import CircuitOpenError, circuit, idempotent


def test_lock_is_exclusive(goscope_adapter):
    handle = goscope_adapter.acquire("orders:42", 10_000)
    assert handle is not None and handle.fencing_token > 0
    assert goscope_adapter.acquire("orders:42", 10_000) is None
    assert handle.release()


def test_breaker_opens_after_failures(goscope_adapter):
    @circuit("payments", failure_threshold=2, adapter=goscope_adapter)
    def pay():
        raise ConnectionError("upstream down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            pay()
    with pytest.raises(CircuitOpenError):
        pay()
    assert goscope_adapter.get_state("payments").state == "open"


def test_idempotent_call_runs_once(goscope_adapter):
    runs = []

    @idempotent(key="charge:{payment_id}", adapter=goscope_adapter)
    def charge(payment_id, amount):
        runs.append(payment_id)
        return {"charged": amount}

    assert charge("p1", 5) == charge("p1", 5) == {"charged": 5}
    assert runs == ["p1"]


def test_each_test_gets_its_own_prefix(goscope_adapter, goscope_key_prefix):
    assert goscope_adapter.key_prefix == goscope_key_prefix
    assert goscope_adapter.get("anything") is None
"""

ASYNC_USER_TESTS = """
import pytest

pytestmark = pytest.mark.anyio


async def test_async_lock_and_cache(goscope_async_adapter):
    handle = await goscope_async_adapter.acquire("orders:1", 10_000)
    assert handle is not None
    assert await goscope_async_adapter.acquire("orders:1", 10_000) is None
    await goscope_async_adapter.set("k", {"v": 1}, ttl=10_000)
    assert await goscope_async_adapter.get("k") == {"v": 1}
"""

FAKE_USER_TESTS = """
import pytest
from goscope_redis import RedisAdapter


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_fake_adapter_needs_no_server(goscope_fake_adapter, request):
    assert "goscope_redis_server" not in request.fixturenames
    assert goscope_fake_adapter.acquire("orders:1", 10_000) is not None
    assert goscope_fake_adapter.record_failure("payments", 1) == 1
    assert goscope_fake_adapter.get_state("payments").state == "open"


def test_fake_server_is_shared_within_a_test(goscope_fake_adapter, goscope_fake_server):
    import fakeredis

    other = RedisAdapter(fakeredis.FakeRedis(server=goscope_fake_server),
                         goscope_fake_adapter.key_prefix)
    goscope_fake_adapter.acquire("orders:1", 10_000)
    assert other.acquire("orders:1", 10_000) is None


@pytest.mark.anyio
async def test_fake_async_adapter(goscope_fake_async_adapter, request):
    assert "goscope_redis_server" not in request.fixturenames
    await goscope_fake_async_adapter.set("k", 1)
    assert await goscope_fake_async_adapter.get("k") == 1
"""

CLEANUP_USER_TESTS = """
import os

import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _remember(prefix):
    with open(os.environ["PREFIX_LOG"], "a") as log:
        log.write(prefix + "\\n")


def test_sync_writes(goscope_adapter, goscope_key_prefix):
    _remember(goscope_key_prefix)
    goscope_adapter.set("user:1", 1)
    goscope_adapter.acquire("orders:1", 60_000)
    goscope_adapter.client.set("keep:me", "outside every prefix")


@pytest.mark.anyio
async def test_async_writes(goscope_async_adapter, goscope_key_prefix):
    _remember(goscope_key_prefix)
    await goscope_async_adapter.set("user:1", 1)
    await goscope_async_adapter.record_failure("payments", 1)
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(PLUGIN_CONFTEST)
    return pytester


def test_users_lock_breaker_and_idempotent_tests_pass_on_a_private_server(user_project):
    user_project.makepyfile(test_user=USER_TESTS)
    result = user_project.runpytest(*NO_DJANGO)
    result.assert_outcomes(passed=4)


def test_async_adapter_works_in_anyio_tests_and_skips_on_trio(user_project):
    user_project.makepyfile(test_user_async=ASYNC_USER_TESTS)
    result = user_project.runpytest(*NO_DJANGO, "-rs")
    # anyio runs each test on every installed backend; redis.asyncio needs asyncio.
    trio = importlib.util.find_spec("trio") is not None
    result.assert_outcomes(passed=1, skipped=1 if trio else 0)
    if trio:
        result.stdout.fnmatch_lines(["*goscope_async_adapter needs an asyncio event loop*"])


def test_fake_adapters_work_without_a_server(user_project, monkeypatch):
    def no_server(self: RedisServer, timeout: float = 10.0) -> RedisServer:
        raise AssertionError("the fake fixtures must not start a redis-server")

    monkeypatch.setattr(RedisServer, "start", no_server)
    user_project.makepyfile(test_user_fake=FAKE_USER_TESTS)
    user_project.runpytest(*NO_DJANGO).assert_outcomes(passed=3)


def test_fake_adapter_skips_with_a_clear_message_without_fakeredis(user_project, monkeypatch):
    monkeypatch.setitem(sys.modules, "fakeredis", None)  # as if it were not installed
    user_project.makepyfile(test_user_fake="def test_x(goscope_fake_adapter):\n    pass\n")
    result = user_project.runpytest(*NO_DJANGO, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*goscope_fake_* fixtures need fakeredis*fakeredis[[]lua[]]*"])


def test_every_prefix_is_deleted_after_its_test(user_project, monkeypatch, redis_server):
    log = user_project.path / "prefixes.log"
    monkeypatch.setenv("PREFIX_LOG", str(log))
    monkeypatch.setenv("GOSCOPE_TEST_REDIS_URL", redis_server.url)  # inspect it from here
    user_project.makepyfile(test_user_cleanup=CLEANUP_USER_TESTS)
    user_project.runpytest(*NO_DJANGO).assert_outcomes(passed=2)
    prefixes = log.read_text().split()
    client = redis.Redis(port=redis_server.port)
    try:
        assert len(prefixes) == 2 and prefixes[0] != prefixes[1]
        for prefix in prefixes:
            assert list(client.scan_iter(match=prefix + "*")) == []
        assert client.get("keep:me") == b"outside every prefix"  # cleanup is prefix-scoped
    finally:
        client.delete("keep:me")
        client.close()


def test_a_session_without_goscope_fixtures_starts_no_server(user_project, monkeypatch):
    def no_server(self: RedisServer, timeout: float = 10.0) -> RedisServer:
        raise AssertionError("nothing asked for a server")

    monkeypatch.setattr(RedisServer, "start", no_server)
    user_project.makepyfile(test_plain="def test_plain():\n    assert True\n")
    user_project.runpytest(*NO_DJANGO).assert_outcomes(passed=1)


def test_naming_the_plugin_twice_is_harmless(user_project):
    # What happens when the installed entry point and a conftest's pytest_plugins both load it.
    user_project.makepyfile(test_user="def test_x(goscope_fake_adapter):\n    pass\n")
    user_project.runpytest(*NO_DJANGO, "-p", "goscope_redis.testing").assert_outcomes(passed=1)
