"""The lane: one connection a plain client's pool lends the runners' fast path for good.

redis-py 8's pool does a lot on every borrow and every return: a lock, a poll of the socket for
stray data, observability counters, an event per return. Pinned to one CPU on the bench
machine that is ~6 µs per command, a sixth of a loopback ``GET``. So the fast path
(:mod:`goscope_redis.runner`) borrows *one* connection from a plain pool once, and keeps it:

* one caller at a time uses it: a thread (async: a coroutine) that finds it busy borrows from
  the pool per call as before, so concurrent callers never queue behind the lane;
* a forked child never touches its parent's lane (the socket is shared); it opens its own
  (a lane records its :mod:`~goscope_redis._forks` generation);
* only a plain pool lends one: redis-py's own ``ConnectionPool`` or ``BlockingConnectionPool``
  with room for at least :data:`MIN_POOL_SIZE` connections, RESP2 and no client-side cache.
  A Sentinel pool must find the current master at every borrow, RESP3 can push messages that
  only a per-call borrow handles, and a small pool has no connection to spare: they all keep
  the per-call borrow;
* async: the lane serves the event loop it was opened on; another loop borrows per call.

The pool still counts the lane's connection as in use, so ``client.close()`` closes it like
any other, and the lane's next command reconnects, as a pooled connection's would. A client
lends at most one lane, however many adapters share it. A failed command drops the lane's
connection (the runner then retries through the client, as it does for a pooled one), and the
next command reconnects it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Final

import redis
import redis.asyncio

from goscope_redis import _forks

MIN_POOL_SIZE: Final = 16
"""A pool smaller than this keeps all its connections for per-call borrowing."""

_PLAIN: Final = (redis.ConnectionPool, redis.BlockingConnectionPool)
_PLAIN_ASYNC: Final = (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool)
_ATTR: Final = "_goscope_redis_lane"
_attaching = threading.Lock()


def _forked() -> None:
    global _attaching
    _attaching = threading.Lock()  # another thread of the parent may have held it


os.register_at_fork(after_in_child=_forked)


def _lends(pool: Any, kinds: tuple[type, ...]) -> bool:
    """Whether ``pool`` (of exactly one of ``kinds``) may lend one connection for good."""
    if type(pool) not in kinds or getattr(pool, "cache", None) is not None:
        return False
    protocol = pool.connection_kwargs.get("protocol") or 2
    return str(protocol) == "2" and (pool.max_connections or 0) >= MIN_POOL_SIZE


class Lane:
    """A sync client's lane: ``open`` if it lends one; ``busy`` is held while a call uses it."""

    __slots__ = ("busy", "connection", "generation", "open")

    def __init__(self, open_: bool) -> None:
        self.open = open_
        self.busy = threading.Lock()
        self.connection: Any = None  # borrowed on first use
        self.generation = _forks.generation

    def borrowed(self, pool: Any) -> Any:
        """The lane's connection (hold ``busy``); borrowed from ``pool`` the first time."""
        connection = self.connection
        if connection is None:
            connection = self.connection = pool.get_connection()
        return connection


class AsyncLane:
    """An async client's lane; ``busy`` is a flag (one event loop), ``loop`` the lane's own."""

    __slots__ = ("busy", "connection", "generation", "loop", "open")

    def __init__(self, open_: bool) -> None:
        self.open = open_
        self.busy = False
        self.connection: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.generation = _forks.generation

    def take(self) -> bool:
        """Mark the lane busy and return True if the running loop's caller may use it now."""
        if not self.open or self.busy:
            return False
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif self.loop is not loop:
            return False  # its connection's streams belong to another loop
        self.busy = True
        return True

    async def borrowed(self, pool: Any) -> Any:
        """The lane's connection (after :meth:`take`); borrowed from ``pool`` the first time."""
        connection = self.connection
        if connection is None:
            connection = self.connection = await pool.get_connection()
        return connection


def lane_of(client: Any) -> Lane:
    """The lane of a sync ``redis.Redis`` (``open`` False: borrow from its pool per call)."""
    lane = getattr(client, _ATTR, None)
    if lane is None or lane.generation != _forks.generation:
        lane = _attach(client, Lane, _PLAIN)
    return lane  # type: ignore[no-any-return]


def async_lane_of(client: Any) -> AsyncLane:
    """The lane of a ``redis.asyncio.Redis``; same rules as :func:`lane_of`."""
    lane = getattr(client, _ATTR, None)
    if lane is None or lane.generation != _forks.generation:
        lane = _attach(client, AsyncLane, _PLAIN_ASYNC)
    return lane  # type: ignore[no-any-return]


def _attach(client: Any, factory: type[Lane] | type[AsyncLane], kinds: tuple[type, ...]) -> Any:
    # Under a lock: two threads attaching at once would each borrow a connection, and the
    # lane that lost the race would keep its connection from the pool for good.
    with _attaching:
        lane = getattr(client, _ATTR, None)
        if lane is not None and lane.generation == _forks.generation:
            return lane
        lane = factory(_lends(client.connection_pool, kinds))
        try:
            setattr(client, _ATTR, lane)
        except AttributeError:
            # A client that takes no attributes cannot keep a lane: a new one per call would
            # borrow a connection per call and never give it back.
            lane.open = False
        return lane
