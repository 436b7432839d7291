"""The sync and async public APIs must stay identical: same names, same parameters."""

from __future__ import annotations

import inspect

import pytest

import goscope_redis
from goscope_redis import AsyncLockHandle, AsyncRedisAdapter, LockHandle, RedisAdapter

PAIRS = [(RedisAdapter, AsyncRedisAdapter), (LockHandle, AsyncLockHandle)]
for sync_name, async_name in [
    ("RedisIdempotencyAdapter", "AsyncRedisIdempotencyAdapter"),
    ("CircuitBreaker", "AsyncCircuitBreaker"),
]:
    if hasattr(goscope_redis, sync_name) and hasattr(goscope_redis, async_name):
        PAIRS.append((getattr(goscope_redis, sync_name), getattr(goscope_redis, async_name)))

# Protocol methods differ by nature: `with` versus `async with`.
_DUNDER_TWINS = {"__enter__": "__aenter__", "__exit__": "__aexit__"}


def public(cls: type) -> dict[str, object]:
    return {n: getattr(cls, n) for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_public_names_are_identical(sync_cls, async_cls):
    assert sorted(public(sync_cls)) == sorted(public(async_cls))


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_signatures_are_identical(sync_cls, async_cls):
    for name, sync_attr in public(sync_cls).items():
        async_attr = getattr(async_cls, name)
        if not callable(sync_attr) or isinstance(sync_attr, type):
            continue
        s_params = list(inspect.signature(sync_attr).parameters.values())
        a_params = list(inspect.signature(async_attr).parameters.values())
        assert [(p.name, p.kind, p.default) for p in s_params] == [
            (p.name, p.kind, p.default) for p in a_params
        ], name


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_async_twin_awaits_what_sync_twin_returns(sync_cls, async_cls):
    for name, sync_attr in public(sync_cls).items():
        if not inspect.isfunction(sync_attr):
            continue
        async_attr = getattr(async_cls, name)
        # lock()/circuit_breaker() return context objects on both faces; everything else that
        # does I/O is a coroutine on the async face.
        if inspect.iscoroutinefunction(async_attr):
            assert not inspect.iscoroutinefunction(sync_attr), name


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_context_manager_support_matches(sync_cls, async_cls):
    for sync_dunder, async_dunder in _DUNDER_TWINS.items():
        assert hasattr(sync_cls, sync_dunder) == hasattr(async_cls, async_dunder)


def test_no_sync_async_bridges_in_library_code():
    import pathlib

    root = pathlib.Path(goscope_redis.__file__).parent.parent
    offenders = []
    for path in [*root.glob("goscope_redis/**/*.py"), *root.glob("integrations/**/*.py")]:
        text = path.read_text()
        if "async_to_sync" in text or "sync_to_async" in text:
            offenders.append(str(path))
    assert offenders == []
