"""``RequestWatch``: a request's deferred scope that also reads ``receive`` for the app and
cancels itself when the client goes away.

Theory of operation. To notice a disconnect while the handler is busy, something must be waiting
in the server's ``receive()``; two readers would steal each other's messages, so exactly one
reads at any time:

* While the request body is still coming, the app reads it itself, through :meth:`receive`.
  (The middleware usually pre-reads the first message, which for most requests is the whole
  body, so this phase is often empty.)
* Once the last body message is delivered, only ``http.disconnect`` is left to come, and a
  watcher task waits for it. If the app asks for more, it shares the watcher's answer.
* A disconnect before the response is complete cancels the request's scope (and so its
  handler). After the response it is just the connection's normal end.

The watcher starts only once the request has run for ``WATCH_AFTER_S``: most requests are over
sooner, and then cost a dict insert and delete instead of a task. One :class:`_Sweeper` timer per
event loop (not one timer per request) ticks every ``WATCH_AFTER_S`` while requests come in and
starts the watchers of the requests that were already running one tick ago and still are, so a
client that leaves is noticed within twice that delay. The watcher is a bare asyncio task on the
server's own ``receive()`` with a done-callback, the cheapest form of it. Off asyncio (trio, for
scopes without persistence) the watch is passive: the disconnect is seen when the app asks.

Why one object is both the deferred scope and the watch: it is created for every request, and
one object with one constructor runs fewer instructions than two objects wired together
(``bench/instructions.py`` counts them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, ClassVar

from starlette.types import Message, Receive, Scope, Send

from goscope_redis.adapter import AsyncRedisAdapter
from goscope_redis.scope._deferred import DeferredScope

_DISCONNECT: Message = {"type": "http.disconnect"}
WATCH_AFTER_S = 0.02

# What the request has received so far (``RequestWatch._got``).
_BODY_COMING, _BODY_DONE, _DISCONNECTED = 0, 1, 2


def _received(message: Message) -> int:
    if message["type"] == "http.disconnect":
        return _DISCONNECTED
    return _BODY_COMING if message.get("more_body", False) else _BODY_DONE


async def _over() -> Message:
    return _DISCONNECT


def _refuse(message: Message) -> Awaitable[None]:
    raise RuntimeError(
        f"ASGI message {message.get('type')!r} sent after the app returned: the request is over"
    )


class RequestWatch(DeferredScope):
    """The request's scope, created on first use, and its disconnect watch (see the module doc).

    ``scope`` may also be set up front to an already-entered scope (the trio path).
    """

    __slots__ = (
        "_armed",
        "_bucket",
        "_due",
        "_first",
        "_got",
        "_reading",
        "_receive",
        "_send",
        "_watcher",
    )

    def __init__(
        self,
        persistence: AsyncRedisAdapter | None,
        task: asyncio.Task[Any] | None,
        http: Scope,
        receive: Receive,
        send: Send,
        first: Message | None,
    ) -> None:
        super().__init__(persistence, task, http["method"], http["path"])
        self._receive = receive
        self._send = send
        self._first = first  # a message the middleware read ahead, handed to the app first
        self._got = _BODY_COMING if first is None else _received(first)
        self._reading = False  # the app is inside the server's receive()
        self._due = False  # the request has run long enough to be watched
        self._watcher: asyncio.Future[Message] | None = None
        self._bucket: dict[RequestWatch, None] | None = None  # where the sweeper holds it
        # A disconnect now would be the client's abort: until the response is complete.
        self._armed = True

    def start(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Begin watching on ``loop`` (``None``: not asyncio, stay passive)."""
        if self._got == _DISCONNECTED:
            self._seen_disconnect()
        elif loop is not None:
            sweeper = _Sweeper.last
            if sweeper is None or sweeper.loop is not loop:
                sweeper = _Sweeper.last = _Sweeper(loop)
            sweeper.add(self)

    def send(self, message: Message) -> Awaitable[None]:
        """The app's ``send``: notes the end of the response.

        A plain function handing back the server's own awaitable: no coroutine of ours per
        message (this is on every response's path).
        """
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            # The response is complete: a disconnect from now on is no longer the client's abort.
            self._armed = False
        return self._send(message)

    def stop(self) -> None:
        """The app has returned: stop watching, and let go of the server's channel.

        Letting go matters: the ASGI scope holds this object (as ``state["scope"]``) and the
        server's ``receive`` holds the ASGI scope, a cycle that only the garbage collector could
        free; left in place, it cost several % of uvicorn throughput. Whatever in the request's
        scope still asks afterwards hears that the client is gone.
        """
        self._armed = False
        bucket = self._bucket
        if bucket is not None:
            del bucket[self]  # not kept alive until the sweeper's next tick
            self._bucket = None
        watcher = self._watcher
        if watcher is not None:
            watcher.cancel()
            self._watcher = None
        self._receive = _over
        self._send = _refuse

    async def receive(self) -> Message:
        """The app's ``receive``."""
        first = self._first
        if first is not None:
            self._first = None
            return first
        if self._watcher is not None:
            # Shielded: an app cancelled while it waits must not cancel the watcher.
            return await asyncio.shield(self._watcher)
        if self._got == _DISCONNECTED:
            return _DISCONNECT
        self._reading = True
        try:
            message = await self._receive()
        finally:
            self._reading = False
        self._got = _received(message)
        if self._got == _DISCONNECTED:
            self._seen_disconnect()
        elif self._got == _BODY_DONE and self._due and self._armed:
            self._watch()
        return message

    def _watch_due(self) -> None:
        self._bucket = None
        self._due = True
        # While the app itself waits in receive() it will see the disconnect; else start now.
        if self._got == _BODY_DONE and not self._reading and self._armed:
            self._watch()

    def _watch(self) -> None:
        self._watcher = asyncio.ensure_future(self._receive())
        self._watcher.add_done_callback(self._watched)

    def _watched(self, watcher: asyncio.Future[Message]) -> None:
        if watcher.cancelled() or watcher.exception() is not None:
            return  # stopped; or the server failed, which the app hears if it asks
        if watcher.result()["type"] == "http.disconnect":
            self._got = _DISCONNECTED
            self._seen_disconnect()

    def _seen_disconnect(self) -> None:
        if self._armed:
            self._armed = False
            self.cancel()


class _Sweeper:
    """One timer per event loop that starts the watchers of requests older than WATCH_AFTER_S.

    Two buckets instead of a start time per request: ``_young`` holds the requests that began
    since the last tick, ``_old`` those of the tick before. At a tick, whatever is still in
    ``_old`` has run for at least one whole period and is due. A request that ends takes itself
    out of its bucket (:meth:`RequestWatch.stop`).
    """

    __slots__ = ("_old", "_timer", "_young", "loop")

    last: ClassVar[_Sweeper | None] = None  # of the loop seen last (usually the only one)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._young: dict[RequestWatch, None] = {}  # a dict: O(1) removal, insertion order
        self._old: dict[RequestWatch, None] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, watch: RequestWatch) -> None:
        """Start ``watch``'s watcher once a whole tick has passed, unless it stops first."""
        young = self._young
        young[watch] = None
        watch._bucket = young
        if self._timer is None:
            self._timer = self.loop.call_later(WATCH_AFTER_S, self._tick)

    def _tick(self) -> None:
        due, self._old, self._young = self._old, self._young, {}
        for watch in due:  # nothing here ends a request: a watcher only starts (a task)
            watch._watch_due()
        # Keep ticking while anything is pending; an idle loop holds no timer.
        self._timer = self.loop.call_later(WATCH_AFTER_S, self._tick) if self._old else None
