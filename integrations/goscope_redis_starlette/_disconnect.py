"""``DisconnectWatch``: the app's ``receive``, which also notices a client that goes away.

Theory of operation. To notice a disconnect while the handler is busy, something must be waiting
in the server's ``receive()``; two readers would steal each other's messages, so exactly one
reads at any time:

* While the request body is still coming, the app reads it itself, through :meth:`receive`.
  (The middleware usually pre-reads the first message, which for most requests is the whole
  body, so this phase is often empty.)
* Once the last body message is delivered, only ``http.disconnect`` is left to come, and a
  watcher task waits for it. If the app asks for more, it shares the watcher's answer.
* A disconnect before the response is complete calls ``on_disconnect`` (the middleware cancels
  the request's scope). After the response it is just the connection's normal end.

The watcher starts only once the request has run for ``WATCH_AFTER_S``: most requests are over
sooner, and then cost two dict operations instead of a task. One :class:`_Sweeper` timer per
event loop (not one timer per request) starts the watchers that are due, so a client that leaves
is still noticed within twice that delay. The watcher is a bare asyncio task on the server's own
``receive()`` with a done-callback, the cheapest form of it. Off asyncio (trio, for scopes
without persistence) the watch is passive: the disconnect is seen when the app asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar

from starlette.types import Message, Receive, Send

_DISCONNECT: Message = {"type": "http.disconnect"}
WATCH_AFTER_S = 0.02


def _is_last_body(message: Message) -> bool:
    return message["type"] == "http.request" and not message.get("more_body", False)


class DisconnectWatch:
    """Reads ``receive`` for the app and reports a client disconnect (see the module doc)."""

    __slots__ = (
        "_body_done",
        "_disconnected",
        "_due",
        "_first",
        "_reading",
        "_receive",
        "_send",
        "_sweeper",
        "_watcher",
        "on_disconnect",
    )

    def __init__(self, receive: Receive, send: Send, first: Message | None = None) -> None:
        self._receive = receive
        self._send = send
        self._first = first  # a message the middleware read ahead, handed to the app first
        self._body_done = first is not None and _is_last_body(first)
        self._disconnected = first is not None and first["type"] == "http.disconnect"
        self._reading = False  # the app is inside the server's receive()
        self._due = False  # the request has run long enough to be watched
        self._sweeper: _Sweeper | None = None
        self._watcher: asyncio.Future[Message] | None = None
        self.on_disconnect: Callable[[], None] | None = None

    def start(self) -> None:
        """Begin watching (call once ``on_disconnect`` is set)."""
        if self._disconnected:
            self._seen_disconnect()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio: stay passive
            return
        self._sweeper = _Sweeper.of(loop)
        self._sweeper.add(self)

    def send(self, message: Message) -> Awaitable[None]:
        """The app's ``send``: notes the end of the response.

        A plain function handing back the server's own awaitable: no coroutine of ours per
        message (this is on every response's path).
        """
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            # The response is complete: a disconnect from now on is no longer the client's abort.
            self.on_disconnect = None
        return self._send(message)

    def stop(self) -> None:
        """The request is over: stop watching."""
        self.on_disconnect = None
        if self._sweeper is not None:
            self._sweeper.discard(self)
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()

    async def receive(self) -> Message:
        """The app's ``receive``."""
        first = self._first
        if first is not None:
            self._first = None
            return first
        if self._watcher is not None:
            # Shielded: an app cancelled while it waits must not cancel the watcher.
            return await asyncio.shield(self._watcher)
        if self._disconnected:
            return _DISCONNECT
        self._reading = True
        try:
            message = await self._receive()
        finally:
            self._reading = False
        if message["type"] == "http.disconnect":
            self._disconnected = True
            self._seen_disconnect()
        elif _is_last_body(message):
            self._body_done = True
            if self._due and self.on_disconnect is not None:
                self._watch()
        return message

    def _watch_due(self) -> None:
        self._sweeper = None
        self._due = True
        # While the app itself waits in receive() it will see the disconnect; else start now.
        if self._body_done and not self._reading and self.on_disconnect is not None:
            self._watch()

    def _watch(self) -> None:
        self._watcher = asyncio.ensure_future(self._receive())
        self._watcher.add_done_callback(self._watched)

    def _watched(self, watcher: asyncio.Future[Message]) -> None:
        if watcher.cancelled() or watcher.exception() is not None:
            return  # stopped; or the server failed, which the app hears if it asks
        if watcher.result()["type"] == "http.disconnect":
            self._disconnected = True
            self._seen_disconnect()

    def _seen_disconnect(self) -> None:
        callback, self.on_disconnect = self.on_disconnect, None
        if callback is not None:
            callback()


class _Sweeper:
    """One timer per event loop that starts the watchers of requests older than WATCH_AFTER_S."""

    __slots__ = ("_loop", "_pending", "_timer")

    _last: ClassVar[_Sweeper | None] = None  # of the loop seen last (usually the only one)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[DisconnectWatch, float] = {}  # insertion order is start-time order
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Sweeper:
        """The sweeper of ``loop``."""
        last = cls._last
        if last is None or last._loop is not loop:
            last = cls._last = cls(loop)
        return last

    def add(self, watch: DisconnectWatch) -> None:
        """Start ``watch``'s watcher once WATCH_AFTER_S has passed, unless it is discarded first."""
        self._pending[watch] = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_later(WATCH_AFTER_S, self._sweep)

    def discard(self, watch: DisconnectWatch) -> None:
        """Forget ``watch`` (its request is over)."""
        self._pending.pop(watch, None)

    def _sweep(self) -> None:
        self._timer = None
        pending = self._pending
        due = self._loop.time() - WATCH_AFTER_S
        ready = []
        for watch, started in pending.items():
            if started > due:
                break
            ready.append(watch)
        for watch in ready:
            del pending[watch]
            watch._watch_due()
        if pending:
            oldest = next(iter(pending.values()))
            self._timer = self._loop.call_at(oldest + WATCH_AFTER_S, self._sweep)
