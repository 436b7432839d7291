"""The lane (goscope_redis/_lane.py): one connection a plain pool lends the fast path for good.

Checked from the server's side (``CLIENT LIST`` by client name) and by behaviour: replies never
cross between callers, a small or special pool keeps every connection for per-call borrowing,
a forked child never touches its parent's socket, and ``close()`` and a killed connection are
survived as with a pooled connection.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from typing import Any

import pytest
import redis
import redis.asyncio

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis._lane import MIN_POOL_SIZE, async_lane_of, lane_of


def _name() -> str:
    return f"lane-{uuid.uuid4().hex[:8]}"


def _connections(sync_client: redis.Redis, name: str) -> int:
    return sum(1 for c in sync_client.client_list() if c.get("name") == name)


def test_a_plain_client_lends_one_connection_and_keeps_it(redis_server, sync_client, prefix):
    name = _name()
    client = redis.Redis(port=redis_server.port, client_name=name)
    adapter = RedisAdapter(client, prefix)
    for i in range(50):
        adapter.set("k", i)
        assert adapter.get("k") == i
    assert _connections(sync_client, name) == 1
    assert lane_of(client).connection is not None
    client.get("other")  # the caller's own command borrows another from the pool
    assert _connections(sync_client, name) == 2
    assert adapter.get("k") == 49
    client.close()  # closes the lane's connection too: the pool still counts it as its own
    assert _connections(sync_client, name) == 0
    assert adapter.get("k") == 49  # the lane reconnects on its next command
    assert _connections(sync_client, name) == 1
    client.close()


def test_threads_share_the_lane_and_never_see_each_others_replies(redis_server, prefix):
    client = redis.Redis(port=redis_server.port)
    adapter = RedisAdapter(client, prefix)
    errors: list[str] = []

    def work(t: int) -> None:
        for i in range(200):
            adapter.set(f"t{t}", [t, i])
            got = adapter.get(f"t{t}")
            if got != [t, i]:
                errors.append(f"thread {t} step {i}: {got!r}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    client.close()


@pytest.mark.parametrize(
    "make",
    [
        # The only connection of a small blocking pool: lending it would starve the caller.
        lambda port: redis.Redis(
            connection_pool=redis.BlockingConnectionPool(port=port, max_connections=1, timeout=1)
        ),
        lambda port: redis.Redis(port=port, max_connections=MIN_POOL_SIZE - 1),
        lambda port: redis.Redis(port=port, protocol=3),  # RESP3 may push messages
        lambda port: redis.Redis(
            connection_pool=redis.sentinel.SentinelConnectionPool(
                "mymaster", redis.sentinel.Sentinel([("127.0.0.1", port)])
            )
        ),
    ],
    ids=["blocking-1", "small", "resp3", "sentinel"],
)
def test_other_pools_keep_every_connection_for_per_call_borrowing(redis_server, prefix, make):
    client = make(redis_server.port)
    assert not lane_of(client).open
    if isinstance(client.connection_pool, redis.sentinel.SentinelConnectionPool):
        return  # no Sentinel here: that the pool lends nothing is the point
    adapter = RedisAdapter(client, prefix)
    adapter.set("k", 1)
    assert client.get(f"{prefix}cache:{{k}}") is not None  # a pool of one: nothing held back
    assert adapter.get("k") == 1
    client.close()


def test_a_blocking_pool_with_room_lends_one(redis_server, prefix):
    pool = redis.BlockingConnectionPool(port=redis_server.port, max_connections=MIN_POOL_SIZE)
    client = redis.Redis(connection_pool=pool)
    RedisAdapter(client, prefix).set("k", 1)
    assert lane_of(client).open and lane_of(client).connection is not None
    client.close()


def test_a_forked_child_opens_its_own_lane(redis_server, prefix):
    client = redis.Redis(port=redis_server.port)
    adapter = RedisAdapter(client, prefix)
    adapter.set("parent", 0)
    parent_lane = lane_of(client)
    pid = os.fork()
    if pid == 0:  # child: the same socket used from two processes would garble both
        code = 1
        try:
            for i in range(300):
                adapter.set("child", i)
                assert adapter.get("child") == i
            code = 0 if lane_of(client) is not parent_lane else 2
        finally:
            os._exit(code)
    for i in range(300):
        adapter.set("parent", i)
        assert adapter.get("parent") == i
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lane_of(client) is parent_lane
    client.close()


def test_a_killed_lane_connection_is_retried_and_reopened(redis_server, sync_client, prefix):
    name = _name()
    client = redis.Redis(port=redis_server.port, client_name=name)
    adapter = RedisAdapter(client, prefix)
    adapter.set("k", "v")
    sync_client.client_kill_filter(_type="normal", skipme=True)  # every other connection
    assert adapter.get("k") == "v"  # retried through the client
    assert adapter.get("k") == "v"
    assert _connections(sync_client, name) >= 1
    client.close()


def test_async_lane_serves_one_loop_and_concurrent_callers(redis_server, sync_client, prefix):
    name = _name()

    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port, client_name=name)
        adapter = AsyncRedisAdapter(client, prefix)
        for i in range(20):
            await adapter.set("k", i)
        assert async_lane_of(client).connection is not None
        assert _connections(sync_client, name) == 1

        async def one(i: int) -> None:
            await adapter.set(f"c{i}", i)
            assert await adapter.get(f"c{i}") == i

        await asyncio.gather(*(one(i) for i in range(50)))  # busy lane: the pool serves
        assert not async_lane_of(client).busy
        await client.aclose()
        assert _connections(sync_client, name) == 0

    asyncio.run(main())


def test_async_lane_belongs_to_its_first_loop(redis_server, prefix):
    client = redis.asyncio.Redis(port=redis_server.port)
    adapter = AsyncRedisAdapter(client, prefix)

    async def first() -> None:
        await adapter.set("k", 1)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(first())
    lane = async_lane_of(client)
    assert lane.loop is loop

    async def elsewhere() -> bool:
        return lane.take()

    other = asyncio.new_event_loop()
    assert other.run_until_complete(elsewhere()) is False  # another loop borrows per call
    other.close()
    loop.run_until_complete(client.aclose())
    loop.close()


class _Transport:
    def __init__(self, closing: bool = False, kept: int = 0) -> None:
        self.closing, self.kept = closing, kept

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.kept


class _Writer:
    def __init__(self, transport: _Transport) -> None:
        self.transport = transport
        self.written: list[bytes] = []

    def writelines(self, data: list[bytes]) -> None:
        self.written.extend(data)

    async def drain(self) -> None:
        await asyncio.sleep(30)  # a peer that stopped reading


class _Conn(redis.asyncio.Connection):
    """A connection that never connects: only what ``_send_async`` looks at."""

    def __init__(self, writer: _Writer | None, health_check_interval: int = 0) -> None:
        super().__init__(health_check_interval=health_check_interval, socket_timeout=0.05)
        self._writer = writer  # type: ignore[assignment]
        self.sent_by_redis_py: list[Any] = []

    async def _redis_py_send(self, command: Any, check_health: bool = True) -> None:
        self.sent_by_redis_py.append(command)


class _Instrumented(_Conn):
    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        self.sent_by_redis_py.append(command)


def test_async_send_writes_at_once_or_leaves_the_odd_case_to_redis_py(monkeypatch):
    from goscope_redis import runner

    _send_async = runner._send_async
    # Stand in for redis-py's own send (this connection has no socket), as seen by the runner.
    monkeypatch.setattr(_Conn, "send_packed_command", _Conn._redis_py_send)
    monkeypatch.setattr(runner, "_REDIS_PY_SEND", _Conn._redis_py_send)

    async def main() -> None:
        plain = _Conn(_Writer(_Transport()))
        await _send_async(plain, [b"*1\r\n$4\r\nPING\r\n"])
        assert plain._writer is not None
        assert plain._writer.written == [b"*1\r\n$4\r\nPING\r\n"]
        assert plain.sent_by_redis_py == []
        # Not connected, health checks due, or closing: redis-py's own send handles it.
        for conn in (
            _Conn(None),
            _Conn(_Writer(_Transport()), health_check_interval=5),
            _Conn(_Writer(_Transport(closing=True))),
            _Instrumented(_Writer(_Transport())),  # a subclass's own send is never bypassed
        ):
            await _send_async(conn, [b"x"])
            assert conn.sent_by_redis_py == [[b"x"]]
        # Bytes the kernel kept back are waited for under the socket timeout, as redis-py does.
        stuck = _Conn(_Writer(_Transport(kept=10)))
        with pytest.raises(redis.TimeoutError, match="writing"):
            await _send_async(stuck, [b"x"])

    asyncio.run(main())


def test_async_client_with_health_checks_still_answers(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port, health_check_interval=1)
        adapter = AsyncRedisAdapter(client, prefix)
        for i in range(5):
            await adapter.set("k", i)
            assert await adapter.get("k") == i
        await client.aclose()

    asyncio.run(main())
