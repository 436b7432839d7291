"""Async cancellation at any await point leaves no orphaned lock and no desynced connection."""

from __future__ import annotations

import asyncio

import redis.asyncio

from goscope_redis import AsyncRedisAdapter


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.002)


def test_cancelled_acquire_leaves_no_orphaned_lock(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)
        raw_key = f"{prefix}lock:{{k}}"
        outcomes = {"cancelled": 0, "acquired": 0}
        for i in range(60):
            task = asyncio.ensure_future(adapter.acquire("k", 30_000))
            await asyncio.sleep(i * 0.00005)
            task.cancel()
            try:
                handle = await task
            except asyncio.CancelledError:
                outcomes["cancelled"] += 1
                await _settle()
                assert await client.exists(raw_key) == 0, f"orphaned lock at iteration {i}"
            else:
                outcomes["acquired"] += 1
                assert await handle.release()
            # The connection must still be in sync: a reply never lands on the wrong request.
            await adapter.set("probe", i)
            assert await adapter.get("probe") == i
        assert outcomes["cancelled"] > 0
        await client.aclose()

    asyncio.run(main())


def test_cancelled_waiter_leaves_no_lock_and_a_usable_client(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)
        holder = await adapter.acquire("k", 30_000)
        waiter = asyncio.ensure_future(adapter.lock("k", 5_000).__aenter__())
        await asyncio.sleep(0.05)  # now blocked in BLPOP
        waiter.cancel()
        try:
            await waiter
        except asyncio.CancelledError:
            pass
        assert await holder.is_valid()
        assert await holder.release()
        await _settle()
        assert await adapter.acquire("k", 1_000) is not None
        await adapter.set("x", [1])
        assert await adapter.get("x") == [1]
        await client.aclose()

    asyncio.run(main())


def test_release_completes_even_if_the_caller_is_cancelled(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)
        for _ in range(30):
            handle = await adapter.acquire("k", 30_000)
            task = asyncio.ensure_future(handle.release())
            await asyncio.sleep(0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            await _settle()
            assert await client.exists(f"{prefix}lock:{{k}}") == 0
        await client.aclose()

    asyncio.run(main())


def test_release_cancelled_at_any_point_still_deletes_the_key(redis_server, prefix):
    # The release is awaited directly (no task per call); a cancel mid-flight drops the
    # connection and sends the release again in the background.
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)
        cancelled = 0
        for i in range(60):
            handle = await adapter.acquire("k", 30_000)
            assert handle is not None
            task = asyncio.ensure_future(handle.release())
            await asyncio.sleep(i * 0.00005)
            task.cancel()
            try:
                assert await task is True
            except asyncio.CancelledError:
                cancelled += 1
            await _settle()
            assert await client.exists(f"{prefix}lock:{{k}}") == 0, f"lock left at iteration {i}"
            await adapter.set("probe", i)  # and the connection is still in sync
            assert await adapter.get("probe") == i
        assert cancelled > 0
        await client.aclose()

    asyncio.run(main())


def test_lock_block_cancelled_releases_the_lock(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)

        async def work() -> None:
            async with adapter.lock("k", 10_000):
                await asyncio.sleep(10)

        task = asyncio.ensure_future(work())
        await asyncio.sleep(0.05)
        assert await client.exists(f"{prefix}lock:{{k}}") == 1
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert await client.exists(f"{prefix}lock:{{k}}") == 0
        await client.aclose()

    asyncio.run(main())


def test_a_cancelled_waiter_leaves_no_reserved_turn_behind(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        adapter = AsyncRedisAdapter(client, prefix)
        holder = await adapter.acquire("k", 5_000)
        assert holder is not None

        async def wait_for_it() -> None:
            async with adapter.lock("k", 1_000):
                pass

        waiter = asyncio.ensure_future(wait_for_it())
        await asyncio.sleep(0.15)  # long enough to poll and to reserve the next turn (50 ms)
        waiter.cancel()
        try:
            await waiter
        except asyncio.CancelledError:
            pass
        assert await client.exists(f"{prefix}lock:{{k}}:starving") == 0
        assert await client.exists(f"{prefix}lock:{{k}}:poller") == 0
        assert await holder.release()
        taker = await adapter.acquire("k", 1_000)  # at once: nobody's turn stands in the way
        assert taker is not None and await taker.release()
        await client.aclose()

    asyncio.run(main())
