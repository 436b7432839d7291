"""``CircuitBreaker`` and ``AsyncCircuitBreaker``: one breaker shared by every process.

The state machine lives in :mod:`goscope_redis.ops.circuit` (read its theory of operation). This
module only decides *when* to admit and record, runs those ops over the adapter's client, fires
the callbacks, and falls back to a :class:`~goscope_redis.breaker_local.LocalBreaker` while Redis
is unreachable, so a storage outage never blocks the protected call.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from itertools import count
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

from redis.exceptions import RedisError

from goscope_redis.breaker_local import LocalBreaker
from goscope_redis.effects import Op
from goscope_redis.keys import KeySpace
from goscope_redis.ops import circuit as ops
from goscope_redis.ops.circuit import BreakerSpec, CircuitBreakerState, Ticket, Transition
from goscope_redis.runner import run_async, run_sync

logger = logging.getLogger("goscope_redis")

T = TypeVar("T")
Callback = Callable[[Any], Any]
"""``on_open``/``on_close``/``on_half_open``: called with the breaker (awaited if async)."""
Outcome = Literal["success", "failure"] | None

STORAGE_ERRORS: Final = (RedisError, OSError)
"""Redis unreachable, timing out, or answering with an error (OOM, READONLY during a failover):
the breaker then runs on its local fallback, so storage trouble never blocks or fails a call."""
_FIRST_RETRY_S: Final = 1.0

# The tickets of `with breaker:` blocks that are open in this thread or task. A ContextVar (not
# an attribute) so concurrent tasks sharing one breaker each get back their own ticket.
_ACTIVE: ContextVar[tuple[tuple[object, Ticket], ...]] = ContextVar(
    "goscope_redis_breaker_tickets", default=()
)


class _BreakerCore:
    """Configuration, fallback bookkeeping and outcome rules shared by both faces (no I/O)."""

    __slots__ = (
        "_callbacks",
        "_client",
        "_degraded",
        "_exclude",
        "_local",
        "_retry_at",
        "_retry_s",
        "_seq",
        "_spec",
        "_state_keys",
        "_tag",
    )

    def __init__(
        self,
        client: Any,
        keys: KeySpace,
        spec: BreakerSpec,
        exclude: tuple[type[BaseException], ...],
        callbacks: dict[str, Callback | None],
    ) -> None:
        self._client = client
        self._state_keys = keys
        self._spec = spec
        self._exclude = exclude
        self._callbacks = {k: v for k, v in callbacks.items() if v is not None}
        self._local = LocalBreaker(spec)
        self._degraded = False
        self._retry_at = 0.0
        self._retry_s = 0.0
        self._tag = secrets.token_hex(6)
        self._seq = count(1)

    @property
    def name(self) -> str:
        """The breaker's name; every process using it (and the same prefix) shares its state."""
        return self._spec.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._spec.name!r})"

    def _token(self) -> str:
        # Unique per admission across processes (the pid, in case the breaker was created
        # before a fork); only used if the call becomes a probe.
        return f"{os.getpid()}:{self._tag}:{next(self._seq)}"

    def _shared(self) -> bool:
        """Whether to use Redis now (False while degraded, until the retry time)."""
        return not self._degraded or time.monotonic() >= self._retry_at

    def _storage_failed(self, exc: BaseException) -> None:
        # Each retry may cost one call the client's connect timeout and retries, so retry
        # rarely: from min(1 s, reset_timeout), doubling up to reset_timeout.
        reset_s = self._spec.reset_timeout / 1000
        first = min(_FIRST_RETRY_S, reset_s)
        self._retry_s = first if not self._degraded else min(self._retry_s * 2, max(first, reset_s))
        self._retry_at = time.monotonic() + self._retry_s
        if not self._degraded:
            self._degraded = True
            logger.warning(
                "goscope_redis: circuit %r cannot use Redis (%s: %s); using a process-local "
                "breaker until Redis is back",
                self._spec.name,
                type(exc).__name__,
                exc,
            )

    def _storage_ok(self) -> None:
        if self._degraded:
            self._degraded = False
            self._local.reset()
            logger.info("goscope_redis: circuit %r is using Redis again", self._spec.name)

    def _classify(self, exc: BaseException | None) -> Outcome:
        if exc is None:
            return "success"
        # Excluded errors and non-errors (cancellation, KeyboardInterrupt) say nothing about
        # the dependency's health.
        if isinstance(exc, self._exclude) or not isinstance(exc, Exception):
            return None
        return "failure"

    def _outcome_op(self, ticket: Ticket, outcome: Outcome) -> Op[Transition] | None:
        """The op that records ``outcome``, or ``None`` when nothing must be written."""
        if outcome == "failure":
            return ops.fail(self._spec, ticket)
        if outcome == "success":
            return ops.succeed(self._spec, ticket) if ticket.success_needs_write else None
        return _released(self._spec, ticket) if ticket.probe is not None else None

    def _settle_local(self, ticket: Ticket, outcome: Outcome) -> Transition:
        if outcome == "failure":
            return self._local.fail(ticket)
        if outcome == "success":
            return self._local.succeed(ticket)
        self._local.release(ticket)
        return None

    def _callback(self, transition: str | None) -> Callback | None:
        return None if transition is None else self._callbacks.get(transition)


def _released(spec: BreakerSpec, ticket: Ticket) -> Op[Transition]:
    yield from ops.release(spec, ticket)
    return None


def _push(owner: object, ticket: Ticket) -> None:
    _ACTIVE.set((*_ACTIVE.get(), (owner, ticket)))


def _pop(owner: object) -> Ticket:
    stack = _ACTIVE.get()
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][0] is owner:
            _ACTIVE.set(stack[:i] + stack[i + 1 :])
            return stack[i][1]
    raise RuntimeError("circuit breaker block exited without a matching enter")


def _check_callable(fn: object) -> None:
    # A programming error must not be admitted and then counted as the dependency's failure.
    if not callable(fn):
        raise TypeError(f"call() needs a callable, got {type(fn).__name__}")


def _log_callback_error(name: str, transition: str) -> None:
    logger.exception("goscope_redis: circuit %r %s callback raised", name, transition)


class CircuitBreaker(_BreakerCore):
    """A circuit breaker whose state is shared through Redis (sync).

    Use ``breaker.call(fn, *args, **kwargs)`` or ``with breaker: ...``. While open it raises
    :class:`~goscope_redis.CircuitOpenError` without running the call.
    """

    __slots__ = ()

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` through the breaker and record its outcome."""
        _check_callable(fn)
        ticket = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._settle(ticket, exc)
            raise
        self._settle(ticket, None)
        return result

    def state(self) -> CircuitBreakerState:
        """The shared record (closed with no failures if none); the local one while degraded."""
        if self._shared():
            try:
                found = run_sync(ops.get_state(self._state_keys, self._spec.name), self._client)
            except STORAGE_ERRORS as exc:
                self._storage_failed(exc)
            else:
                self._storage_ok()
                return found or CircuitBreakerState()
        return self._local.snapshot()

    def __enter__(self) -> CircuitBreaker:
        _push(self, self._admit())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._settle(_pop(self), exc)

    def _admit(self) -> Ticket:
        if self._shared():
            try:
                ticket = run_sync(ops.admit(self._spec, self._token()), self._client)
            except STORAGE_ERRORS as exc:
                self._storage_failed(exc)
            else:
                self._storage_ok()
                if ticket.half_opened:
                    self._fire("half-open")
                return ticket
        ticket = self._local.admit()
        if ticket.half_opened:
            self._fire("half-open")
        return ticket

    def _settle(self, ticket: Ticket, exc: BaseException | None) -> None:
        outcome = self._classify(exc)
        transition: Transition = None
        if ticket.local:
            transition = self._settle_local(ticket, outcome)
        else:
            op = self._outcome_op(ticket, outcome)
            if op is None:
                return
            try:
                transition = run_sync(op, self._client)
            except STORAGE_ERRORS as error:
                self._storage_failed(error)
                transition = self._settle_local(ticket, outcome)
        self._fire(transition)

    def _fire(self, transition: str | None) -> None:
        callback = self._callback(transition)
        if callback is not None:
            try:
                callback(self)
            except Exception:
                _log_callback_error(self._spec.name, str(transition))


class AsyncCircuitBreaker(_BreakerCore):
    """A circuit breaker whose state is shared through Redis (async). Same names as the sync one.

    Use ``await breaker.call(fn, *args, **kwargs)`` (``fn`` may be sync or async) or
    ``async with breaker: ...``.
    """

    __slots__ = ()

    async def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` (awaited if it returns an awaitable) through the breaker."""
        _check_callable(fn)
        ticket = await self._admit()
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            await self._settle(ticket, exc)
            raise
        await self._settle(ticket, None)
        return result

    async def state(self) -> CircuitBreakerState:
        """The shared record (closed with no failures if none); the local one while degraded."""
        if self._shared():
            try:
                op = ops.get_state(self._state_keys, self._spec.name)
                found = await run_async(op, self._client)
            except STORAGE_ERRORS as exc:
                self._storage_failed(exc)
            else:
                self._storage_ok()
                return found or CircuitBreakerState()
        return self._local.snapshot()

    async def __aenter__(self) -> AsyncCircuitBreaker:
        _push(self, await self._admit())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._settle(_pop(self), exc)

    async def _admit(self) -> Ticket:
        if self._shared():
            token = self._token()
            try:
                ticket = await run_async(ops.admit(self._spec, token), self._client)
            except STORAGE_ERRORS as exc:
                self._storage_failed(exc)
            except asyncio.CancelledError:
                # The script may have granted a probe lease we never learnt about: return it.
                with contextlib.suppress(*STORAGE_ERRORS):
                    await self._shielded(_released(self._spec, Ticket(probe=token)))
                raise
            else:
                self._storage_ok()
                if ticket.half_opened:
                    await self._fire("half-open")
                return ticket
        ticket = self._local.admit()
        if ticket.half_opened:
            await self._fire("half-open")
        return ticket

    async def _settle(self, ticket: Ticket, exc: BaseException | None) -> None:
        outcome = self._classify(exc)
        transition: Transition = None
        if ticket.local:
            transition = self._settle_local(ticket, outcome)
        else:
            op = self._outcome_op(ticket, outcome)
            if op is None:
                return
            try:
                transition = await self._shielded(op)
            except STORAGE_ERRORS as error:
                self._storage_failed(error)
                transition = self._settle_local(ticket, outcome)
        await self._fire(transition)

    async def _shielded(self, op: Op[Transition]) -> Transition:
        # An outcome write must finish even if the caller is cancelled meanwhile; otherwise a
        # probe's lease or a failure would be lost with the cancelled task.
        task = asyncio.ensure_future(run_async(op, self._client))
        return await asyncio.shield(task)

    async def _fire(self, transition: str | None) -> None:
        callback = self._callback(transition)
        if callback is not None:
            try:
                result = callback(self)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                _log_callback_error(self._spec.name, str(transition))
