"""``AsyncScope``: structured concurrency that carries the persistence adapter.

Theory of operation. Entering a scope starts its body engine (:mod:`._bodies`): on asyncio the
body's own task, with a task set created on the first ``spawn``; elsewhere an anyio task group.
The engine carries the ``timeout`` and is the target of ``cancel()`` and of a lost lock. Then
the scope is bound to ``current_scope()``. Leaving undoes it in reverse: the engine waits for
every task (the first failure has already cancelled the others) and absorbs our own
cancellation, then the locks still held are released under a shield. What is left becomes the
one exception the scope raises: ``LockLostError`` if a lease was lost, ``TimeoutError`` if the
deadline cancelled it, else the failure (an ``ExceptionGroup`` only when several tasks failed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import anyio

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis.idempotency import AsyncRedisIdempotencyAdapter
from goscope_redis.scope._async_task import call_async, run_task
from goscope_redis.scope._base import ScopeCore
from goscope_redis.scope._bodies import Body, GroupBody, NativeBody
from goscope_redis.scope._context import CURRENT
from goscope_redis.scope._handles import AsyncTaskHandle
from goscope_redis.scope._hooks import Hooks
from goscope_redis.scope._locks import AsyncScopeLock
from goscope_redis.scope._options import Idempotency, Retry, task_name, task_spec
from goscope_redis.scope._outcome import collapse, combine, reraise

T = TypeVar("T")


class AsyncScope(ScopeCore[AsyncRedisAdapter]):
    """Structured concurrency with persistence: ``async with scope(persistence=adapter) as s:``.

    Tasks spawned in the scope cannot outlive it. Works on asyncio and trio; Redis I/O (locks,
    cache, tasks with options) needs asyncio, like ``redis.asyncio``.
    """

    _adapter_types = (AsyncRedisAdapter,)

    def __init__(
        self,
        persistence: AsyncRedisAdapter | None = None,
        *,
        name: str | None = None,
        timeout: Any = None,
        concurrency: int | None = None,
        hooks: Hooks | None = None,
        parent: AsyncScope | None = None,
    ) -> None:
        super().__init__(persistence, name, timeout, concurrency, hooks, parent)
        self._body: Body | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._held: dict[AsyncScopeLock, None] = {}
        self._token: Any = None
        self._closed = False

    @classmethod
    def _adopt(
        cls, persistence: AsyncRedisAdapter | None, name: str, body: NativeBody
    ) -> AsyncScope:
        """A scope already running as ``body``, bound to ``current_scope()`` by the caller
        (:class:`~goscope_redis.scope._deferred.DeferredScope`)."""
        adopted = cls(persistence, name=name)
        adopted._body = body
        return adopted

    async def __aenter__(self) -> AsyncScope:
        if self._body is not None:
            raise RuntimeError(f"scope {self.name!r} was already entered; create a new one")
        timeout = self._timeout_ms
        timeout_s = None if timeout is None else timeout / 1000
        if self._concurrency is not None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no asyncio loop running: trio
            task = None
        # On asyncio the body needs no task group until something is spawned (a scope per
        # request must be cheap); elsewhere an anyio task group carries the scope.
        if task is not None:
            self._body = NativeBody(task, timeout_s)
        else:
            self._body = await GroupBody.enter(timeout_s)
        self._token = CURRENT.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        body = self._body
        assert body is not None
        if self._token is not None:  # None: adopted, the deferred scope's owner binds it
            CURRENT.reset(self._token)
        # Most scopes spawned nothing and were not cancelled: nothing to wait for or absorb.
        error = exc if body.idle else await body.exit(exc)
        if self._held:  # most scopes hold no lock: skip the shielded cancel scope then
            with anyio.CancelScope(shield=True):
                for lock in list(self._held):
                    self._held.pop(lock, None)
                    await lock.release_at_exit()
        self._closed = True
        outcome = self._outcome(error)
        if outcome is None:
            return True
        if outcome is not exc:
            reraise(outcome)
        return False

    def _outcome(self, error: BaseException | None) -> BaseException | None:
        assert self._body is not None
        if self._lost is not None:
            if error is None or isinstance(collapse(error), type(self._lost)):
                return self._lost
            if isinstance(error, anyio.get_cancelled_exc_class()):
                return error  # an enclosing scope is cancelling us: let it through
            return combine(self.name, [self._lost, error])
        if error is None and self._body.timed_out:
            return TimeoutError(f"scope {self.name!r} timed out after {self._timeout_ms} ms")
        return None if error is None else collapse(error)

    @property
    def cancelled(self) -> bool:
        """True once the scope (or an enclosing scope) has been cancelled."""
        body = self._body
        if body is not None and body.cancel_called:
            return True
        return isinstance(self._parent, AsyncScope) and self._parent.cancelled

    def cancel(self) -> None:
        """Cancel every task of the scope and its body; the scope then exits without error."""
        if self._body is None:
            raise RuntimeError(f"scope {self.name!r} is not entered")
        self._body.cancel()

    def _cancel_for_lost_lock(self) -> None:
        if self._body is not None and not self._closed:
            self._body.cancel()

    def spawn(
        self, fn: Callable[..., Awaitable[T]], *args: Any, name: str | None = None
    ) -> AsyncTaskHandle[T]:
        """Start ``fn(*args)`` in the scope; await the returned handle for its result.

        If it fails, the scope's other tasks and body are cancelled, and the scope raises the
        failure at exit. Use ``functools.partial`` to pass keyword arguments.
        """
        if self._body is None or self._closed:
            raise RuntimeError(f"scope {self.name!r} is not running; spawn inside `async with`")
        handle: AsyncTaskHandle[T] = AsyncTaskHandle(name or task_name(fn), self.name)
        self._body.start_soon(self._run_spawned, (handle, fn, args), handle.name, handle._end)
        return handle

    async def _run_spawned(
        self, handle: AsyncTaskHandle[Any], fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        if self._limiter is None:
            await self._run_tracked(handle, fn, args)
        else:
            async with self._limiter:
                await self._run_tracked(handle, fn, args)

    async def _run_tracked(
        self, handle: AsyncTaskHandle[Any], fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        started = self._task_started(handle.name)
        try:
            handle._succeeded(await call_async(fn, args))
        except BaseException as exc:
            handle._failed(exc)
            self._task_ended(handle.name, started, exc)
            raise
        self._task_ended(handle.name, started, None)

    def scope(
        self,
        name: str | None = None,
        *,
        timeout: Any = None,
        concurrency: int | None = None,
        hooks: Hooks | None = None,
    ) -> AsyncScope:
        """A child scope: same persistence, name ``parent/name``, the parent's hooks too."""
        return AsyncScope(
            self._persistence,
            name=name,
            timeout=timeout,
            concurrency=concurrency,
            hooks=hooks,
            parent=self,
        )

    def lock(
        self, key: str, ttl: Any = 30_000, *, wait: Any = None, auto_extend: bool = True
    ) -> AsyncScopeLock:
        """``async with s.lock(key, ttl, wait=...) as handle:`` (released at scope exit at the
        latest; a lost lease cancels the scope with ``LockLostError``)."""
        adapter = self._require("locks")
        ctx = adapter.lock(key, ttl, wait=wait, auto_extend=auto_extend, on_lost=self._lock_lost)
        return AsyncScopeLock(self, ctx)

    async def task(
        self,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        id: str | None = None,
        idempotency: Idempotency | None = None,
        checkpoint: bool = False,
        retry: Retry | None = None,
        timeout: Any = None,  # noqa: ASYNC109 - ms, the option of go-go-scope's task()
    ) -> T:
        """Run ``fn(*args)`` here with options, and return its result.

        ``checkpoint=True`` (needs a stable ``id``) passes a :class:`TaskContext` first and
        resumes from the latest checkpoint; ``idempotency`` runs it once per key across
        processes; ``retry`` re-runs failures; ``timeout`` (ms) covers all attempts.
        """
        spec = task_spec(fn, id, idempotency, checkpoint, retry, timeout)
        result: T = await run_task(self, spec, fn, args)
        return result

    async def resume_task(
        self,
        id: str,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        idempotency: Idempotency | None = None,
        retry: Retry | None = None,
        timeout: Any = None,  # noqa: ASYNC109 - ms, as for task()
    ) -> T:
        """Resume task ``id`` from its latest checkpoint; ``LookupError`` if it has none."""
        adapter = self._require("checkpoints")
        if await adapter.load_latest_checkpoint(id) is None:
            raise LookupError(f"task {id!r} has no checkpoint to resume from")
        return await self.task(
            fn, *args, id=id, idempotency=idempotency, checkpoint=True, retry=retry, timeout=timeout
        )

    def _idempotency_store(self) -> AsyncRedisIdempotencyAdapter:
        if self._idem is None:
            self._idem = self._require("idempotency").idempotency
        store: AsyncRedisIdempotencyAdapter = self._idem
        return store

    def __enter__(self) -> None:
        raise TypeError(
            f"scope {self.name!r} is async (its persistence is an AsyncRedisAdapter): use "
            "`async with`, or pass a RedisAdapter for a sync scope"
        )

    def __exit__(self, *exc: object) -> None:  # pragma: no cover - __enter__ always raises
        return None
