"""@circuit: one breaker shared by every process that uses the same name and prefix."""

from __future__ import annotations

import asyncio

import pytest

from goscope_redis import CircuitOpenError, circuit

from ..procs import run_workers


def test_opens_after_threshold_and_refuses(configured):
    calls = []

    @circuit("payments", failure_threshold=3, reset_timeout=60_000)
    def pay() -> None:
        calls.append(1)
        raise ConnectionError("upstream down")

    for _ in range(3):
        with pytest.raises(ConnectionError):
            pay()
    with pytest.raises(CircuitOpenError) as info:
        pay()
    assert len(calls) == 3
    assert 0 < info.value.retry_after <= 60_000


def test_fallback_is_returned_while_open(configured):
    @circuit("quotes", failure_threshold=1, reset_timeout=60_000, fallback=lambda sku: "cached")
    def quote(sku: str) -> str:
        raise TimeoutError

    with pytest.raises(TimeoutError):
        quote("a")
    assert quote("a") == "cached"


def test_async_function_with_async_fallback(configured):
    async def fallback() -> str:
        return "fallback"

    @circuit("async-upstream", failure_threshold=1, reset_timeout=60_000, fallback=fallback)
    async def call() -> str:
        raise RuntimeError

    async def main():
        with pytest.raises(RuntimeError):
            await call()
        assert await call() == "fallback"

    asyncio.run(main())


def test_excluded_exceptions_do_not_count(configured):
    @circuit("lookups", failure_threshold=1, exclude=(KeyError,))
    def lookup() -> None:
        raise KeyError("not found is not an outage")

    for _ in range(3):
        with pytest.raises(KeyError):
            lookup()


def test_method(configured):
    class Client:
        @circuit("svc", failure_threshold=2, reset_timeout=60_000)
        def get(self, ok: bool) -> str:
            if not ok:
                raise OSError
            return "ok"

    c = Client()
    assert c.get(True) == "ok"
    for _ in range(2):
        with pytest.raises(OSError):
            c.get(False)
    with pytest.raises(CircuitOpenError):
        c.get(True)


def _fail_once(url: str, prefix: str) -> str:
    from goscope_redis import circuit, configure

    configure(url=url, key_prefix=prefix)

    @circuit("shared", failure_threshold=4, reset_timeout=60_000)
    def flaky() -> None:
        raise ConnectionError

    try:
        flaky()
    except ConnectionError:
        return "failed"
    return "ran"


def _probe(url: str, prefix: str) -> str:
    from goscope_redis import CircuitOpenError, circuit, configure

    configure(url=url, key_prefix=prefix)

    @circuit("shared", failure_threshold=4, reset_timeout=60_000)
    def healthy() -> str:
        return "ran"

    try:
        return healthy()
    except CircuitOpenError:
        return "refused"


def test_opens_for_every_process_after_failures_in_any(redis_server, prefix):
    assert run_workers(_fail_once, [(redis_server.url, prefix)] * 4) == ["failed"] * 4
    assert run_workers(_probe, [(redis_server.url, prefix)] * 3) == ["refused"] * 3
