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

from goscope_redis.decorators._keys import KeyBuilder
from goscope_redis.decorators._resolve import async_resolver, sync_resolver
from goscope_redis.decorators._results import from_storable, to_storable
from goscope_redis.durations import optional_ms, to_ms, wait_ms
from goscope_redis.errors import (
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotencyStoredError,
)
from goscope_redis.idempotency_records import Claim

F = TypeVar("F", bound=Callable[..., Any])
_FIRST_POLL_S, _MAX_POLL_S = 0.01, 0.25


class _Policy:
    def __init__(self, fn: Callable[..., Any], **o: Any) -> None:
        self.keys = KeyBuilder(fn, o["key"])
        self.ttl = optional_ms(o["ttl"])
        self.lease = to_ms(o["lease"], "lease")
        self.wait = wait_ms(o["wait"])
        self.store_errors = bool(o["store_errors"])
        self.fingerprint = bool(o["fingerprint"])
        self.result_type: type | None = o["result_type"]

    def begin_args(self, args: Any, kwargs: Any) -> tuple[str, str | None]:
        key = self.keys.build(args, kwargs)
        return key, self.keys.fingerprint(args, kwargs) if self.fingerprint else None

    def settled(self, key: str, claim: Claim) -> tuple[bool, Any]:
        """(True, result) for a finished record; raises for mismatch or a stored failure."""
        if claim.status == "mismatch":
            raise IdempotencyMismatchError(key)
        if claim.status != "completed" or claim.record is None:
            return False, None
        if claim.record.is_error:
            stored = claim.record.value if isinstance(claim.record.value, dict) else {}
            raise IdempotencyStoredError(
                key, stored.get("type", "Exception"), stored.get("message", "")
            )
        return True, from_storable(claim.record.value, self.result_type)

    def next_poll(self, key: str, claim: Claim, started: float, delay: float) -> float:
        """How long to sleep before asking again; raise once ``wait`` is used up."""
        waited_ms = (time.monotonic() - started) * 1000
        if self.wait is not None and waited_ms >= self.wait:
            raise IdempotencyInProgressError(key, claim.retry_after)
        left = None if self.wait is None else (self.wait - waited_ms) / 1000
        return min(delay, left) if left is not None else delay


def _error_envelope(exc: BaseException) -> dict[str, str]:
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "message": str(exc)}


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
        idem = resolve().idempotency
        key, fp = policy.begin_args(args, kwargs)
        started, delay = time.monotonic(), _FIRST_POLL_S
        while True:
            claim = idem.begin(key, fingerprint=fp, lease=policy.lease)
            if claim.status == "started":
                return _run_sync(fn, policy, idem, claim, args, kwargs)
            done, result = policy.settled(key, claim)
            if done:
                return result
            time.sleep(policy.next_poll(key, claim, started, delay))
            delay = min(delay * 2, _MAX_POLL_S)

    return wrapper


def _run_sync(fn: Any, policy: _Policy, idem: Any, claim: Claim, args: Any, kwargs: Any) -> Any:
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        if policy.store_errors:
            idem.complete(claim, _error_envelope(exc), policy.ttl, error=True)
        else:
            idem.abandon(claim)
        raise
    except BaseException:
        idem.abandon(claim)
        raise
    idem.complete(claim, to_storable(result, policy.result_type), policy.ttl)
    return result


def _async_wrapper(fn: Callable[..., Any], policy: _Policy, resolve: Callable[[], Any]) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        idem = resolve().idempotency
        key, fp = policy.begin_args(args, kwargs)
        started, delay = time.monotonic(), _FIRST_POLL_S
        while True:
            claim = await idem.begin(key, fingerprint=fp, lease=policy.lease)
            if claim.status == "started":
                return await _run_async(fn, policy, idem, claim, args, kwargs)
            done, result = policy.settled(key, claim)
            if done:
                return result
            await asyncio.sleep(policy.next_poll(key, claim, started, delay))
            delay = min(delay * 2, _MAX_POLL_S)

    return wrapper


async def _run_async(
    fn: Any, policy: _Policy, idem: Any, claim: Claim, args: Any, kwargs: Any
) -> Any:
    try:
        result = await fn(*args, **kwargs)
    except Exception as exc:
        if policy.store_errors:
            await idem.complete(claim, _error_envelope(exc), policy.ttl, error=True)
        else:
            await idem.abandon(claim)
        raise
    except BaseException:
        await idem.abandon(claim)  # cancelled: release the key so a retry can run
        raise
    await idem.complete(claim, to_storable(result, policy.result_type), policy.ttl)
    return result
