"""``Scope``: the sync scope, for Django views, scripts and worker threads.

Theory of operation. Threads cannot be interrupted, so cancellation is cooperative: a cancelled
scope sets an event, cancels the tasks that have not started yet, and cancels its child scopes;
running code notices through ``s.cancelled`` or ``s.check()`` (which raises
``ScopeCancelledError``), and the scope's own pauses (retry backoff, idempotency polls) wake up at
once. A ``timeout`` is a deadline that ``cancelled`` and ``check()`` compare against. At exit the
scope waits for every spawned task, shuts its pool down, releases the locks still held, then
raises what went wrong: ``LockLostError`` if a lease was lost, the failure (an
``ExceptionGroup`` when several failed), ``TimeoutError`` if its deadline stopped the work, or
nothing if it was cancelled on purpose.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from goscope_redis.adapter import RedisAdapter
from goscope_redis.errors import LockLostError, ScopeCancelledError
from goscope_redis.idempotency import RedisIdempotencyAdapter
from goscope_redis.scope._base import ScopeCore
from goscope_redis.scope._context import CURRENT, bound
from goscope_redis.scope._handles import TaskHandle
from goscope_redis.scope._hooks import Hooks
from goscope_redis.scope._locks import SyncScopeLock
from goscope_redis.scope._options import Idempotency, Retry, task_name, task_spec
from goscope_redis.scope._outcome import combine, reraise
from goscope_redis.scope._sync_task import call_sync, run_task

T = TypeVar("T")


class Scope(ScopeCore[RedisAdapter]):
    """Structured concurrency for sync code: ``with scope(persistence=adapter) as s:``.

    ``s.spawn(fn, *args)`` runs ``fn`` in the scope's bounded thread pool (``concurrency``
    threads); the first failure cancels the rest. Long-running tasks should call ``s.check()``.
    """

    _adapter_types = (RedisAdapter,)

    def __init__(
        self,
        persistence: RedisAdapter | None = None,
        *,
        name: str | None = None,
        timeout: Any = None,
        concurrency: int | None = None,
        hooks: Hooks | None = None,
        parent: Scope | None = None,
    ) -> None:
        super().__init__(persistence, name, timeout, concurrency, hooks, parent)
        self._mutex = threading.Lock()
        self._cancel_event = threading.Event()
        self._cancel_from_parent = False
        self._observed = False
        self._own_deadline: float | None = None
        self._deadline: float | None = None
        self._errors: list[BaseException] = []
        self._futures: list[concurrent.futures.Future[Any]] = []
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._held: dict[SyncScopeLock, None] = {}
        self._children: set[Scope] = set()
        self._token: Any = None
        self._state = "new"

    def __enter__(self) -> Scope:
        if self._state != "new":
            raise RuntimeError(f"scope {self.name!r} was already entered; create a new one")
        if self._timeout_ms is not None:
            self._own_deadline = time.monotonic() + self._timeout_ms / 1000
        parent = self._parent if isinstance(self._parent, Scope) else None
        inherited = parent._deadline if parent is not None else None
        deadlines = [d for d in (self._own_deadline, inherited) if d is not None]
        self._deadline = min(deadlines) if deadlines else None
        self._state = "open"
        if parent is not None:
            with parent._mutex:
                parent._children.add(self)
            if parent._cancel_event.is_set():
                self._cancel(from_parent=True)
        self._token = CURRENT.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is not None:
            self._record(exc)
        try:
            self._join()
        finally:
            self._close()
        outcome = self._outcome(exc)
        if outcome is None:
            return True
        if outcome is not exc:
            reraise(outcome)
        return False

    def _join(self) -> None:
        while True:  # tasks may spawn more tasks while we wait
            with self._mutex:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            concurrent.futures.wait(pending)

    def _close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        with self._mutex:
            held, self._held = list(self._held), {}
        for lock in held:
            lock.release_at_exit()
        if isinstance(self._parent, Scope):
            with self._parent._mutex:
                self._parent._children.discard(self)
        self._state = "closed"
        CURRENT.reset(self._token)

    def _outcome(self, exc: BaseException | None) -> BaseException | None:
        errors = list(self._errors)
        if self._lost is not None:
            others = [e for e in errors if not isinstance(e, LockLostError)]
            return combine(self.name, [self._lost, *others])
        if errors:
            return combine(self.name, errors)
        if not self._observed:
            return None
        if self._own_deadline is not None and time.monotonic() >= self._own_deadline:
            return TimeoutError(f"scope {self.name!r} timed out after {self._timeout_ms} ms")
        if self._cancel_event.is_set() and not self._cancel_from_parent:
            return None  # cancelled on purpose: absorbed here
        # Cancelled from outside (parent, or its deadline): let the parent absorb it.
        return exc if isinstance(exc, ScopeCancelledError) else ScopeCancelledError(self.name)

    def _record(self, error: BaseException) -> None:
        """Note a failure of the body or a task; the first one cancels the scope."""
        if isinstance(error, ScopeCancelledError) and self.cancelled:
            self._observed = True
            return
        if isinstance(error, LockLostError) and self._lost is not None:
            return
        with self._mutex:
            if any(e is error for e in self._errors):
                return  # the body re-raised a task's failure (via handle.result())
            self._errors.append(error)
        self._cancel(from_parent=False)

    @property
    def cancelled(self) -> bool:
        """True once the scope was cancelled or its deadline passed (poll it in long loops)."""
        if self._cancel_event.is_set():
            return True
        return self._deadline is not None and time.monotonic() >= self._deadline

    def check(self) -> None:
        """Raise ``ScopeCancelledError`` if the scope was cancelled (the scope absorbs it)."""
        if self.cancelled:
            self._observed = True
            raise ScopeCancelledError(self.name)

    def cancel(self) -> None:
        """Cancel the scope: tasks not started never run; running ones see ``check()`` raise."""
        self._cancel(from_parent=False)

    def _cancel(self, *, from_parent: bool) -> None:
        with self._mutex:
            if self._cancel_event.is_set():
                return
            self._cancel_from_parent = from_parent
            self._cancel_event.set()
            pending, children = list(self._futures), list(self._children)
        for future in pending:
            if future.cancel():
                self._observed = True
        for child in children:
            child._cancel(from_parent=True)

    def _cancel_for_lost_lock(self) -> None:
        self._cancel(from_parent=False)

    def _sleep(self, seconds: float) -> None:
        """Pause, waking early (with ``ScopeCancelledError``) if the scope is cancelled."""
        if self._deadline is not None:
            seconds = min(seconds, max(0.0, self._deadline - time.monotonic()))
        self._cancel_event.wait(seconds)
        self.check()

    def spawn(self, fn: Callable[..., T], *args: Any, name: str | None = None) -> TaskHandle[T]:
        """Run ``fn(*args)`` in the scope's thread pool; ``handle.result()`` waits for it.

        If it fails, the scope is cancelled and raises the failure at exit.
        """
        if self._state != "open":
            raise RuntimeError(f"scope {self.name!r} is not open; spawn inside `with`")
        task = name or task_name(fn)
        context = contextvars.copy_context()  # request-local state follows the task
        future = self._pool().submit(context.run, self._run_spawned, task, fn, args)
        with self._mutex:
            self._futures.append(future)
        if self._cancel_event.is_set() and future.cancel():
            self._observed = True
        return TaskHandle(task, self.name, future)

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._mutex:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._concurrency, thread_name_prefix=f"goscope:{self.name}"
                )
            return self._executor

    def _run_spawned(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        started = self._task_started(name)
        error: BaseException | None = None
        try:
            with bound(self):
                self.check()
                return call_sync(fn, args)
        except BaseException as exc:
            error = exc
            self._record(exc)
            raise
        finally:
            self._task_ended(name, started, error)

    def scope(
        self,
        name: str | None = None,
        *,
        timeout: Any = None,
        concurrency: int | None = None,
        hooks: Hooks | None = None,
    ) -> Scope:
        """A child scope: same persistence, name ``parent/name``, cancelled with the parent."""
        return Scope(
            self._persistence,
            name=name,
            timeout=timeout,
            concurrency=concurrency,
            hooks=hooks,
            parent=self,
        )

    def lock(
        self, key: str, ttl: Any = 30_000, *, wait: Any = None, auto_extend: bool = True
    ) -> SyncScopeLock:
        """``with s.lock(key, ttl, wait=...) as handle:`` (released at scope exit at the latest;
        a lost lease cancels the scope, which then raises ``LockLostError``)."""
        adapter = self._require("locks")
        ctx = adapter.lock(key, ttl, wait=wait, auto_extend=auto_extend, on_lost=self._lock_lost)
        return SyncScopeLock(self, ctx)

    def task(
        self,
        fn: Callable[..., T],
        *args: Any,
        id: str | None = None,
        idempotency: Idempotency | None = None,
        checkpoint: bool = False,
        retry: Retry | None = None,
        timeout: Any = None,
    ) -> T:
        """Run ``fn(*args)`` here with options, and return its result (see ``AsyncScope.task``).

        ``timeout`` (ms) is cooperative: the task observes it via ``ctx.scope.check()`` or
        ``current_scope().check()``.
        """
        spec = task_spec(fn, id, idempotency, checkpoint, retry, timeout)
        result: T = run_task(self, spec, fn, args)
        return result

    def resume_task(
        self,
        id: str,
        fn: Callable[..., T],
        *args: Any,
        idempotency: Idempotency | None = None,
        retry: Retry | None = None,
        timeout: Any = None,
    ) -> T:
        """Resume task ``id`` from its latest checkpoint; ``LookupError`` if it has none."""
        if self._require("checkpoints").load_latest_checkpoint(id) is None:
            raise LookupError(f"task {id!r} has no checkpoint to resume from")
        return self.task(
            fn, *args, id=id, idempotency=idempotency, checkpoint=True, retry=retry, timeout=timeout
        )

    def _idempotency_store(self) -> RedisIdempotencyAdapter:
        if self._idem is None:
            self._idem = self._require("idempotency").idempotency
        store: RedisIdempotencyAdapter = self._idem
        return store

    async def __aenter__(self) -> None:
        raise TypeError(
            f"scope {self.name!r} is sync (its persistence is a RedisAdapter): use `with`, or "
            "pass an AsyncRedisAdapter for an async scope"
        )

    async def __aexit__(self, *exc: object) -> None:  # pragma: no cover - __aenter__ raises
        return None
