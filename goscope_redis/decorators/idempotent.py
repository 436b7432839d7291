"""``@idempotent``: exactly one execution per key across every worker process.

The first caller claims the key (one atomic script) and runs the function; its result is stored
for ``ttl`` ms and replayed to every later caller with the same key. A concurrent duplicate polls
until the result lands (up to ``wait`` ms), then replays it, or raises
``IdempotencyInProgressError``. Reusing a key with different arguments raises
``IdempotencyMismatchError``. A raising call releases the key (unless ``store_errors``), so a
retry runs again. Redis trouble fails closed: the function never runs unprotected.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from goscope_redis.claims import ClaimLease, ClaimPoller, error_envelope, keep_alive, replay
from goscope_redis.decorators._keys import KeyBuilder
from goscope_redis.decorators._resolve import async_resolver, sync_resolver
from goscope_redis.decorators._results import from_storable, to_storable
from goscope_redis.durations import optional_ms, to_ms, wait_ms
from goscope_redis.errors import SerializationError
from goscope_redis.idempotency_records import Claim

F = TypeVar("F", bound=Callable[..., Any])


class _Policy:
    """Everything about one decorated function that does not depend on sync or async."""

    def __init__(self, fn: Callable[..., Any], **o: Any) -> None:
        self.keys = KeyBuilder(fn, o["key"])
        self.ttl = optional_ms(o["ttl"])
        self.lease = to_ms(o["lease"], "lease")
        self.wait = wait_ms(o["wait"])
        self.store_errors = bool(o["store_errors"])
        self.fingerprint = bool(o["fingerprint"])
        self.result_type: type | None = o["result_type"]

    def begin_args(self, args: Any, kwargs: Any) -> tuple[str, str | None]:
        """The call's key and (optionally) the fingerprint of its arguments."""
        key = self.keys.build(args, kwargs)
        return key, self.keys.fingerprint(args, kwargs) if self.fingerprint else None

    def replayed(self, claim: Claim) -> Any:
        """The stored result of a completed claim, rebuilt as ``result_type``."""
        return from_storable(replay(claim), self.result_type)


def idempotent(
    key: str | None = None,
    ttl: Any = 86_400_000,
    lease: Any = 60_000,
    wait: Any = 10_000,
    store_errors: bool = False,
    fingerprint: bool = True,
    *,
    result_type: type | None = None,
    adapter: Any = None,
) -> Callable[[F], F]:
    """Run the function once per ``key`` (a template over its arguments) across processes."""

    def decorate(fn: F) -> F:
        policy = _Policy(
            fn, key=key, ttl=ttl, lease=lease, wait=wait, store_errors=store_errors,
            fingerprint=fingerprint, result_type=result_type,
        )  # fmt: skip
        if inspect.iscoroutinefunction(fn):
            return cast(F, _async_wrapper(fn, policy, async_resolver(adapter, fn)))
        return cast(F, _sync_wrapper(fn, policy, sync_resolver(adapter, fn)))

    return decorate


def _sync_wrapper(fn: Callable[..., Any], policy: _Policy, resolve: Callable[[], Any]) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        adapter = resolve()
        idem = adapter.idempotency
        key, fp = policy.begin_args(args, kwargs)
        poller = ClaimPoller(key, policy.wait)
        while True:
            claim = idem.begin(key, fingerprint=fp, lease=policy.lease)
            pause = poller.pause(claim)
            if pause is None:
                break
            time.sleep(pause)
        if claim.status == "completed":
            return policy.replayed(claim)
        return _run_sync(fn, policy, adapter, claim, args, kwargs)

    return wrapper


def _run_sync(fn: Any, policy: _Policy, adapter: Any, claim: Claim, args: Any, kwargs: Any) -> Any:
    idem = adapter.idempotency
    lease = adapter._renewer.add(ClaimLease(idem, claim, policy.lease), None)
    try:
        try:
            result = fn(*args, **kwargs)
        finally:
            lease.cancel()  # before abandon/complete, so a renewal never races them
    except Exception as exc:
        if policy.store_errors:
            idem.complete(claim, error_envelope(exc), policy.ttl, error=True)
        else:
            idem.abandon(claim)
        raise
    except BaseException:
        idem.abandon(claim)
        raise
    _complete_sync(idem, claim, to_storable(result, policy.result_type), policy.ttl)
    return result


def _complete_sync(idem: Any, claim: Claim, value: Any, ttl: int | None) -> None:
    try:
        idem.complete(claim, value, ttl)
    except SerializationError:
        idem.abandon(claim)  # the result cannot be stored: let a retry run rather than wait
        raise


def _async_wrapper(fn: Callable[..., Any], policy: _Policy, resolve: Callable[[], Any]) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        idem = resolve().idempotency
        key, fp = policy.begin_args(args, kwargs)
        poller = ClaimPoller(key, policy.wait)
        while True:
            claim = await idem.begin(key, fingerprint=fp, lease=policy.lease)
            pause = poller.pause(claim)
            if pause is None:
                break
            await asyncio.sleep(pause)
        if claim.status == "completed":
            return policy.replayed(claim)
        return await _run_async(fn, policy, idem, claim, args, kwargs)

    return wrapper


async def _run_async(
    fn: Any, policy: _Policy, idem: Any, claim: Claim, args: Any, kwargs: Any
) -> Any:
    heartbeat = asyncio.get_running_loop().create_task(keep_alive(idem, claim, policy.lease))
    try:
        try:
            result = await fn(*args, **kwargs)
        finally:
            heartbeat.cancel()
    except Exception as exc:
        if policy.store_errors:
            await idem.complete(claim, error_envelope(exc), policy.ttl, error=True)
        else:
            await idem.abandon(claim)
        raise
    except BaseException:
        await idem.abandon(claim)  # cancelled: release the key so a retry can run
        raise
    try:
        await idem.complete(claim, to_storable(result, policy.result_type), policy.ttl)
    except SerializationError:
        await idem.abandon(claim)
        raise
    return result
