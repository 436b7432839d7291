"""The two runners: the only place where goscope-redis performs I/O.

``run_sync`` drives an operation over ``redis.Redis`` (or ``RedisCluster``); ``run_async`` drives
the same operation over ``redis.asyncio.Redis``. Both understand the same effects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

import redis
import redis.asyncio
from redis.exceptions import NoScriptError, ResponseError

from goscope_redis._lane import async_lane_of, lane_of
from goscope_redis._packing import packed
from goscope_redis.effects import Batch, Call, Clock, Effect, Eval, NodeCall, Primaries, Sleep

T = TypeVar("T")

# Commands whose raw reply is what redis-py's response callbacks would return anyway, so the
# fast path below may skip them.
_RAW_SAFE = frozenset({"GET", "MGET", "EXISTS", "UNLINK", "INCRBY", "EVALSHA", "SET"})
"""Commands whose raw reply every caller reads as is (redis-py's callback would only turn SET's
``b"OK"``/``None`` into ``True``/``None``; our callers take ``bool()`` of it or ignore it)."""
_BLOCKING = frozenset({"BLPOP"})
"""Commands that may block for seconds; the async runner keeps them promptly cancellable."""
_FAST_OK = int(redis.__version__.split(".")[0]) >= 6  # get_connection() takes no arguments
_REDIS_PY_SEND = redis.asyncio.connection.AbstractConnection.send_packed_command


def fast_path_client(client: Any) -> bool:
    """True for a plain pooled ``redis.Redis``, where :func:`_call_fast` is safe."""
    return (
        _FAST_OK
        and isinstance(client, redis.Redis)
        and getattr(client, "connection", None) is None  # not a single-connection client
        and not type(client).__module__.startswith("fakeredis")
    )


def is_cluster(client: Any) -> bool:
    """True for ``redis.cluster.RedisCluster`` and its asyncio twin."""
    from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster | AsyncRedisCluster)


class _Lost(Exception):
    """The connection broke before the reply came (the cause says how): retry via the client."""


def _exchange(conn: Any, args: tuple[Any, ...]) -> Any:
    """Send one command on ``conn`` and read its reply; a broken connection raises :class:`_Lost`
    after it is disconnected."""
    try:
        data = packed(conn, args)
        if data is None:
            conn.send_command(*args)
        else:
            conn.send_packed_command(data)
        return conn.read_response()
    except ResponseError:
        raise  # an error reply: the connection is still in sync
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        conn.disconnect()
        raise _Lost from exc
    except BaseException:
        conn.disconnect()  # interrupted mid-reply: never reuse a desynced connection
        raise


def _call_fast(client: Any, args: tuple[Any, ...]) -> Any:
    """Send one command on the client's lane, or a pooled connection, skipping redis-py's
    per-call bookkeeping.

    redis-py 8 wraps every command in retry closures and metrics hooks (about 3 µs, a tenth of
    a loopback round trip), and its pool spends as much again per borrow and return (see
    :mod:`goscope_redis._lane`). On the happy path we do only what matters: send, read, return.
    On a connection error the connection is dropped and the command handed to
    ``execute_command``, so reconnects and the client's retry policy behave exactly as before.
    """
    try:
        lane = lane_of(client)
        if lane.open and lane.busy.acquire(False):
            try:
                return _exchange(lane.borrowed(client.connection_pool), args)
            finally:
                lane.busy.release()
        pool = client.connection_pool
        conn = pool.get_connection()
        try:
            return _exchange(conn, args)
        finally:
            pool.release(conn)  # before any retry: a small pool may have no other connection
    except _Lost as lost:
        cause = lost.__cause__
    _raise_unless_retried(client, cause)
    return client.execute_command(*args)


def _raise_unless_retried(client: Any, cause: BaseException | None) -> None:
    if isinstance(cause, redis.TimeoutError) and not client.get_retry().get_retries():
        # The client asked for no retries: a second attempt would double the time a caller
        # waits on a stalled server (the fault suite bounds it at one socket timeout).
        raise cause


def _perform_sync(client: Any, effect: Effect) -> Any:
    if isinstance(effect, Call):
        if effect.args[0] in _RAW_SAFE and fast_path_client(client):
            return _call_fast(client, effect.args)
        return client.execute_command(*effect.args)
    if isinstance(effect, Eval):
        keys, args = effect.keys, effect.args
        try:
            command = ("EVALSHA", effect.script.sha, len(keys), *keys, *args)
            if fast_path_client(client):
                return _call_fast(client, command)
            return client.execute_command(*command)
        except NoScriptError:
            # EVAL also caches the script on the node that ran it; safe on Cluster, where
            # SCRIPT LOAD would have to reach every primary.
            return client.execute_command("EVAL", effect.script.source, len(keys), *keys, *args)
    if isinstance(effect, Batch):
        pipe = client.pipeline(transaction=False)
        for call in effect.calls:
            pipe.execute_command(*call.args)
        return pipe.execute(raise_on_error=False)
    if isinstance(effect, Sleep):
        time.sleep(effect.seconds)
        return None
    if isinstance(effect, Clock):
        return time.monotonic()
    if isinstance(effect, Primaries):
        return client.get_primaries() if is_cluster(client) else [None]
    if isinstance(effect, NodeCall):
        if effect.node is None:
            return client.execute_command(*effect.args)
        # The node's own client: a plain reply, not the Cluster's merged multi-node shape.
        return effect.node.redis_connection.execute_command(*effect.args)
    raise TypeError(f"unknown effect {effect!r}")


def fast_path_async_client(client: Any) -> bool:
    """True for a plain pooled ``redis.asyncio.Redis``, where :func:`_call_fast_async` is safe."""
    return (
        _FAST_OK
        and isinstance(client, redis.asyncio.Redis)
        and getattr(client, "connection", None) is None
        and not type(client).__module__.startswith("fakeredis")
    )


async def _exchange_async(conn: Any, args: tuple[Any, ...]) -> Any:
    """The async twin of :func:`_exchange`.

    A cancellation mid-command disconnects the connection before anyone reuses it, so a late
    reply can never be read by the next caller (the CVE-2023-28859 class of bug).
    """
    try:
        data = packed(conn, args)
        if data is None:
            await conn.send_command(*args)
        else:
            await _send_async(conn, data)
        return await conn.read_response()
    except ResponseError:
        raise
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        await conn.disconnect()
        raise _Lost from exc
    except BaseException:
        await conn.disconnect(nowait=True)
        raise


async def _send_async(conn: Any, data: list[bytes]) -> None:
    """Write a packed command, awaiting nothing when the kernel takes it at once.

    redis-py sends every command under ``asyncio.wait_for(..., socket_timeout)`` (5 s by
    default in redis-py 8), which on Python 3.11 wraps the write in a task of its own: a task,
    a timer and extra event-loop passes per command, for a write that almost always completes
    inside ``writelines``. Only when the transport kept some bytes back do we wait for them,
    under the same timeout. A connection that must connect, health-check or is closing goes
    through redis-py's own ``send_packed_command``, which does all that and raises as usual;
    so does one whose class overrides it (instrumentation, say: we never step around that).
    """
    writer = getattr(conn, "_writer", None)
    if (
        writer is None
        or type(conn).send_packed_command is not _REDIS_PY_SEND
        or conn.health_check_interval
        or writer.transport.is_closing()
    ):
        await conn.send_packed_command(data)
        return
    writer.writelines(data)
    if writer.transport.get_write_buffer_size():
        try:
            # ``or None``: like redis-py, a socket_timeout of 0 (or None) means no limit.
            await asyncio.wait_for(writer.drain(), conn.socket_timeout or None)
        except TimeoutError:  # asyncio's, since Python 3.11
            raise redis.TimeoutError("Timeout writing to socket") from None


async def _call_fast_async(client: Any, args: tuple[Any, ...]) -> Any:
    """The async twin of :func:`_call_fast` (redis.asyncio spends ~6 µs a call on bookkeeping,
    its pool as much again)."""
    try:
        lane = async_lane_of(client)
        if lane.take():
            try:
                return await _exchange_async(await lane.borrowed(client.connection_pool), args)
            finally:
                lane.busy = False
        pool = client.connection_pool
        conn = await pool.get_connection()
        try:
            return await _exchange_async(conn, args)
        finally:
            await pool.release(conn)
    except _Lost as lost:
        cause = lost.__cause__
    _raise_unless_retried(client, cause)
    return await client.execute_command(*args)


async def _perform_async(client: Any, effect: Effect) -> Any:
    if isinstance(effect, Call):
        name = effect.args[0]
        if name in _BLOCKING:
            return await _cancellable(client.execute_command(*effect.args))
        if name in _RAW_SAFE and fast_path_async_client(client):
            return await _call_fast_async(client, effect.args)
        return await client.execute_command(*effect.args)
    if isinstance(effect, Eval):
        keys, args = effect.keys, effect.args
        try:
            command = ("EVALSHA", effect.script.sha, len(keys), *keys, *args)
            if fast_path_async_client(client):
                return await _call_fast_async(client, command)
            return await client.execute_command(*command)
        except NoScriptError:
            return await client.execute_command(
                "EVAL", effect.script.source, len(keys), *keys, *args
            )
    if isinstance(effect, Batch):
        pipe = client.pipeline(transaction=False)
        for call in effect.calls:
            pipe.execute_command(*call.args)
        return await pipe.execute(raise_on_error=False)
    if isinstance(effect, Sleep):
        await asyncio.sleep(effect.seconds)
        return None
    if isinstance(effect, Clock):
        return time.monotonic()
    if isinstance(effect, Primaries):
        if not is_cluster(client):
            return [None]
        await client.initialize()  # a fresh async cluster client knows no nodes yet
        return client.get_primaries()
    if isinstance(effect, NodeCall):
        if effect.node is None:
            return await client.execute_command(*effect.args)
        return await effect.node.execute_command(*effect.args)
    raise TypeError(f"unknown effect {effect!r}")


async def _cancellable(command: Coroutine[Any, Any, Any]) -> Any:
    """Await a blocking command so that the caller always sees its own cancellation.

    redis-py may swallow a cancel that lands as a command is sent (see :func:`run_async`); a
    blocking read would then hold the cancelled caller for the whole block. Run in a child task
    behind ``shield``, the caller's cancel always raises at once; the child is cancelled too,
    and if that cancel is swallowed as well it still reads its own reply, so its connection
    goes back to the pool in sync.
    """
    inner = asyncio.ensure_future(command)
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        inner.cancel()
        inner.add_done_callback(_retrieve)
        raise


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" log


def run_sync(op: Generator[Effect, Any, T], client: Any) -> T:
    """Drive ``op`` to completion over a synchronous redis-py client."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = op.send(reply) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            reply, error = _perform_sync(client, effect), None
        except Exception as exc:
            reply, error = None, exc


async def run_async(op: Generator[Effect, Any, T], client: Any) -> T:
    """Drive ``op`` to completion over a ``redis.asyncio`` client."""
    task = asyncio.current_task()
    cancels = task.cancelling() if task is not None else 0
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = op.send(reply) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            reply, error = await _perform_async(client, effect), None
        except Exception as exc:
            reply, error = None, exc
        if task is not None and task.cancelling() > cancels:
            # redis-py sends each command under asyncio.wait_for, which on Python 3.11 returns
            # normally when a cancel lands just as the send completes: the cancel is lost and
            # a waiter would wait on. Honour it; callers' compensation then undoes the reply.
            raise asyncio.CancelledError
