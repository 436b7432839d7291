"""@cached on sync functions, async functions and methods, against real Redis."""

from __future__ import annotations

import asyncio
import logging

import pytest

from goscope_redis import NotConfiguredError, RedisAdapter, cached
from goscope_redis.config import reset

from ..procs import run_workers


def test_sync_function_is_cached_and_shared(configured, raw):
    calls = []

    @cached(ttl=60_000, key="user:{user_id}")
    def load(user_id: int) -> dict:
        calls.append(user_id)
        return {"id": user_id}

    assert load(7) == {"id": 7}
    assert load(user_id=7) == {"id": 7}
    assert calls == [7]
    assert raw.exists(f"{configured}cache:{{user:7}}")
    load.invalidate(7)
    assert load(7) == {"id": 7} and calls == [7, 7]


def test_async_function_is_cached(configured):
    calls = []

    @cached(ttl=60_000)
    async def square(x: int) -> int:
        calls.append(x)
        return x * x

    async def main():
        assert await square(3) == 9
        assert await square(3) == 9
        assert await square(4) == 16
        assert calls == [3, 4]
        assert await square.invalidate_all() == 2
        assert await square(3) == 9

    asyncio.run(main())
    assert calls == [3, 4, 3]


def test_methods_use_attribute_templates(configured):
    class Repo:
        def __init__(self, tenant: str) -> None:
            self.tenant = tenant
            self.calls = 0

        @cached(ttl=60_000, key="repo:{self.tenant}:{item}")
        def get(self, item: str) -> str:
            self.calls += 1
            return f"{self.tenant}/{item}"

    a, b = Repo("a"), Repo("b")
    assert a.get("x") == "a/x" and a.get("x") == "a/x" and a.calls == 1
    assert b.get("x") == "b/x" and b.calls == 1


def test_default_key_is_stable_and_ignores_self(configured, raw):
    class Svc:
        @cached(ttl=60_000)
        def compute(self, a: int, b: str = "x") -> str:
            return f"{a}{b}"

    Svc().compute(1)
    Svc().compute(1, b="x")  # same arguments, other instance: one key
    keys = [k.decode() for k in raw.scan_iter(f"{configured}cache:*")]
    assert len(keys) == 1
    assert "Svc.compute:" in keys[0]


def test_unknown_template_field_fails_at_decoration():
    with pytest.raises(ValueError, match="user_id"):

        @cached(ttl=1_000, key="user:{user_id}")
        def load(uid: int) -> None: ...


def test_none_is_not_cached_unless_asked(configured):
    calls = []

    @cached(ttl=60_000)
    def maybe() -> None:
        calls.append(1)

    @cached(ttl=60_000, cache_none=True)
    def maybe_cached() -> None:
        calls.append(2)

    maybe(), maybe(), maybe_cached(), maybe_cached()
    assert calls == [1, 1, 2]


def test_ttl_expires(configured):
    calls = []

    @cached(ttl=50)
    def f() -> int:
        calls.append(1)
        return 1

    f()
    import time

    time.sleep(0.15)
    f()
    assert len(calls) == 2


def test_stale_while_revalidate_serves_stale_and_refreshes(configured):
    import time

    values = iter(range(100))

    @cached(ttl=100, stale_while_revalidate=2_000)
    def counter() -> int:
        return next(values)

    assert counter() == 0
    time.sleep(0.2)  # past ttl, inside the stale window
    assert counter() == 0  # stale value at once ...
    deadline = time.monotonic() + 3
    value = counter()
    while value == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        value = counter()
    assert value >= 1  # ... then the background refresh landed


def test_fail_open_when_redis_is_down(caplog):
    down = RedisAdapter.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.1)

    @cached(ttl=1_000, adapter=down)
    def f(x: int) -> int:
        return x + 1

    with caplog.at_level(logging.WARNING, logger="goscope_redis"):
        assert f(1) == 2
    assert "calling the function directly" in caplog.text

    @cached(ttl=1_000, adapter=down, fail_open=False)
    def g() -> int:
        return 1

    import redis

    with pytest.raises(redis.ConnectionError):
        g()


def test_not_configured_raises_clear_error(monkeypatch):
    reset()
    monkeypatch.delenv("REDIS_URL", raising=False)

    @cached(ttl=1_000)
    def f() -> int:
        return 1

    with pytest.raises(NotConfiguredError, match="configure"):
        f()


def test_adapter_kind_is_checked_at_decoration(sync_adapter):
    with pytest.raises(TypeError, match="AsyncRedisAdapter"):

        @cached(ttl=1_000, adapter=sync_adapter)
        async def f() -> None: ...


def _stampede(url: str, prefix: str, barrier_key: str) -> int:
    import time

    import redis as redis_mod

    from goscope_redis import cached, configure

    configure(url=url, key_prefix=prefix)
    raw = redis_mod.Redis.from_url(url)

    @cached(ttl=60_000, key="report")
    def expensive() -> str:
        raw.incr(prefix + "computations")
        time.sleep(0.5)
        return "done"

    raw.incr(barrier_key)
    while int(raw.get(barrier_key)) < 8:  # start together
        time.sleep(0.005)
    return 1 if expensive() == "done" else 0


def test_stampede_across_8_processes_computes_once(redis_server, prefix, raw):
    results = run_workers(_stampede, [(redis_server.url, prefix, prefix + "barrier")] * 8)
    assert results == [1] * 8
    assert int(raw.get(prefix + "computations")) == 1


def test_default_keys_distinguish_equal_values_of_other_types():
    from goscope_redis.decorators._keys import KeyBuilder

    def f(a, b=2):
        return a

    builder = KeyBuilder(f, None)
    keys = {builder.build((v,), {}) for v in (1, 1.0, True, "1")}
    assert len(keys) == 4
    for _ in range(2):  # memoised or not, the same key
        assert builder.build((1,), {}) == builder.build((), {"a": 1}) == builder.build((1, 2), {})
