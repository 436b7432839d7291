"""Idempotency contract: runs on {sync, async} x {real redis-server, fakeredis}."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from goscope_redis import (
    AsyncRedisIdempotencyAdapter,
    Claim,
    RedisIdempotencyAdapter,
    SerializationError,
)


def _redis_ms(raw) -> int:
    sec, usec = raw.time()
    return sec * 1000 + usec // 1000


def test_first_begin_starts_with_a_leased_in_progress_record(idem, raw, prefix):
    claim = idem.begin("charge:9", lease=5_000)
    assert claim.status == "started" and claim.key == "charge:9" and len(claim.owner) >= 32
    rkey = f"{prefix}idempotency:{{charge:9}}"
    assert raw.hget(rkey, "s") == b"run" and raw.hget(rkey, "o") == claim.owner.encode()
    assert 4_000 < raw.pttl(rkey) <= 5_000


def test_begin_while_running_is_in_progress_with_retry_after(idem):
    idem.begin("k", lease=5_000)
    second = idem.begin("k", lease=5_000)
    assert second.status == "in_progress" and second.owner is None
    assert 4_000 < second.retry_after <= 5_000


def test_completed_record_replays_with_expiry_from_redis_time(idem, raw):
    claim = idem.begin("k")
    assert idem.complete(claim, {"charged": 42}, ttl=60_000) is True
    replay = idem.begin("k")
    assert replay.status == "completed"
    assert replay.record.value == {"charged": 42} and replay.record.is_error is False
    assert 0 <= _redis_ms(raw) + 60_000 - replay.record.expires_at < 5_000
    again = idem.get("k")
    assert again.value == replay.record.value and not again.is_error
    assert abs(again.expires_at - replay.record.expires_at) <= 5  # both on the Redis clock


def test_complete_without_ttl_never_expires(idem, raw, prefix):
    idem.complete(idem.begin("k"), "v")
    assert raw.pttl(f"{prefix}idempotency:{{k}}") == -1
    assert idem.get("k").expires_at is None


def test_stored_failure_is_never_replayed_as_success(idem):
    claim = idem.begin("k")
    assert idem.complete(claim, {"error": "card declined"}, error=True)
    replay = idem.begin("k")
    assert replay.status == "completed" and replay.record.is_error is True
    assert replay.record.value == {"error": "card declined"}
    assert idem.get("k").is_error is True


def test_stored_none_is_a_result_not_a_miss(idem):
    idem.complete(idem.begin("k"), None)
    record = idem.get("k")
    assert record is not None and record.value is None and not record.is_error
    assert idem.begin("k").status == "completed"


def test_different_fingerprint_is_a_mismatch_while_running_and_after(idem):
    claim = idem.begin("k", fingerprint="body-a")
    assert idem.begin("k", fingerprint="body-b").status == "mismatch"
    assert idem.begin("k", fingerprint="body-a").status == "in_progress"
    idem.complete(claim, "ok")
    assert idem.begin("k", fingerprint="body-b").status == "mismatch"
    assert idem.begin("k", fingerprint="body-a").status == "completed"


def test_fingerprint_is_compared_only_when_both_sides_have_one(idem):
    claim = idem.begin("k")
    idem.complete(claim, "ok")
    assert idem.begin("k", fingerprint="x").status == "completed"
    other = idem.begin("k2", fingerprint="x")
    idem.complete(other, "ok")
    assert idem.begin("k2").status == "completed"


@pytest.mark.parametrize("bad", ["", 5, b"x"])
def test_bad_fingerprint_raises_and_writes_nothing(idem, raw, prefix, bad):
    with pytest.raises(ValueError, match="fingerprint"):
        idem.begin("k", fingerprint=bad)
    assert raw.keys(f"{prefix}*") == []


def test_abandon_frees_the_key_for_the_next_begin(idem, raw, prefix):
    claim = idem.begin("k")
    assert idem.abandon(claim) is True
    assert not raw.exists(f"{prefix}idempotency:{{k}}")
    assert idem.abandon(claim) is False
    assert idem.begin("k").status == "started"


def test_expired_lease_is_taken_over_by_the_next_begin(idem):
    first = idem.begin("k", lease=80)
    idem.sleep(0.25)
    second = idem.begin("k", lease=5_000)
    assert second.status == "started" and second.owner != first.owner


def test_stale_complete_after_takeover_is_rejected_and_keeps_newer_record(idem, raw, prefix):
    stale = idem.begin("k", lease=80)
    idem.sleep(0.25)
    fresh = idem.begin("k", lease=5_000)
    assert idem.complete(stale, "stale result") is False
    assert raw.hget(f"{prefix}idempotency:{{k}}", "o") == fresh.owner.encode()
    assert idem.abandon(stale) is False
    assert idem.begin("k").status == "in_progress"
    assert idem.complete(fresh, "fresh result") is True
    assert idem.get("k").value == "fresh result"


def test_stale_complete_cannot_overwrite_a_newer_completed_record(idem):
    stale = idem.begin("k", lease=80)
    idem.sleep(0.25)
    idem.complete(idem.begin("k"), "fresh")
    assert idem.complete(stale, "stale") is False
    assert idem.get("k").value == "fresh"


def test_complete_after_lease_ran_out_without_takeover_is_stored(idem):
    claim = idem.begin("k", lease=80)
    idem.sleep(0.25)
    assert idem.complete(claim, "late but only") is True
    assert idem.begin("k").record.value == "late but only"


def test_second_complete_of_one_claim_is_rejected(idem):
    claim = idem.begin("k")
    assert idem.complete(claim, 1) is True
    assert idem.complete(claim, 2) is False
    assert idem.get("k").value == 1


def test_only_a_started_claim_can_complete_or_abandon(idem):
    idem.begin("k")
    waiting = idem.begin("k")
    with pytest.raises(ValueError, match="started"):
        idem.complete(waiting, "x")
    with pytest.raises(ValueError, match="started"):
        idem.abandon(waiting)
    with pytest.raises(TypeError):
        idem.complete("not a claim", "x")


def test_unserialisable_result_raises_and_keeps_the_claim(idem, raw, prefix):
    claim = idem.begin("k")
    with pytest.raises(SerializationError):
        idem.complete(claim, object())
    assert raw.hget(f"{prefix}idempotency:{{k}}", "s") == b"run"
    assert idem.complete(claim, "ok") is True


@pytest.mark.parametrize("bad", [0, -5, True, 1.5])
def test_bad_lease_or_ttl_raises_and_writes_nothing(idem, raw, prefix, bad):
    with pytest.raises(ValueError, match="lease"):
        idem.begin("k", lease=bad)
    with pytest.raises(ValueError, match="ttl"):
        idem.set("k", 1, ttl=bad)
    assert raw.keys(f"{prefix}*") == []


@pytest.mark.parametrize("bad", ["", None, 5])
def test_bad_key_raises(idem, bad):
    with pytest.raises((TypeError, ValueError)):
        idem.begin(bad)


def test_get_is_none_for_missing_and_in_progress_keys(idem):
    assert idem.get("k") is None
    idem.begin("k")
    assert idem.get("k") is None


def test_provider_set_get_delete(idem, raw):
    idem.set("k", {"v": 1}, ttl=60_000)
    record = idem.get("k")
    assert record.value == {"v": 1} and not record.is_error
    assert 0 <= _redis_ms(raw) + 60_000 - record.expires_at < 5_000
    idem.set("e", "boom", error=True)
    assert idem.get("e").is_error
    assert idem.delete("k") is True and idem.delete("k") is False
    assert idem.get("k") is None


def test_set_uses_millisecond_ttl(idem):
    idem.set("k", 1, ttl=60)
    assert idem.get("k").value == 1
    idem.sleep(0.2)
    assert idem.get("k") is None


def test_set_replaces_a_running_claim(idem):
    claim = idem.begin("k")
    idem.set("k", "from set")
    assert idem.complete(claim, "from claim") is False
    assert idem.get("k").value == "from set"


def test_record_key_is_prefixed_and_hash_tagged(idem, raw, prefix):
    idem.complete(idem.begin("charge:{9}"), "mine")
    assert raw.keys(f"{prefix}*") == [f"{prefix}idempotency:{{charge:{{9%7D}}".encode()]


def test_claim_is_a_frozen_record(idem):
    claim = idem.begin("k")
    assert isinstance(claim, Claim)
    with pytest.raises(AttributeError):
        claim.status = "completed"


def test_from_url_owns_its_client_and_borrowed_client_stays_open(redis_server, prefix):
    owned = RedisIdempotencyAdapter.from_url(redis_server.url, prefix)
    assert owned.owns_client and owned.is_connected()
    with owned:
        assert owned.begin("k").status == "started"
    borrowed_client = redis.Redis(port=redis_server.port)
    with RedisIdempotencyAdapter(borrowed_client, prefix) as borrowed:
        assert not borrowed.owns_client and borrowed.begin("k").status == "in_progress"
    assert borrowed_client.ping()
    borrowed_client.close()


def test_async_from_url_owns_its_client(redis_server, prefix):
    async def main() -> None:
        async with AsyncRedisIdempotencyAdapter.from_url(redis_server.url, prefix) as owned:
            assert owned.owns_client and await owned.is_connected()
            assert (await owned.begin("k")).status == "started"
        client = redis.asyncio.Redis(port=redis_server.port)
        async with AsyncRedisIdempotencyAdapter(client, prefix) as borrowed:
            assert (await borrowed.begin("k")).status == "in_progress"
        assert await client.ping()
        await client.aclose()

    asyncio.run(main())


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.002)


def test_cancelled_begin_leaves_no_orphaned_claim(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        idem = AsyncRedisIdempotencyAdapter(client, prefix)
        cancelled = 0
        for i in range(40):
            task = asyncio.ensure_future(idem.begin("k", lease=30_000))
            await asyncio.sleep(i * 0.00005)
            task.cancel()
            try:
                claim = await task
            except asyncio.CancelledError:
                cancelled += 1
                await _settle()
                assert await client.exists(f"{prefix}idempotency:{{k}}") == 0, i
            else:
                assert await idem.abandon(claim)
        assert cancelled > 0
        await client.aclose()

    asyncio.run(main())


def test_cancelled_complete_still_stores_the_result(redis_server, prefix):
    async def main() -> None:
        client = redis.asyncio.Redis(port=redis_server.port)
        idem = AsyncRedisIdempotencyAdapter(client, prefix)
        claim = await idem.begin("k")
        task = asyncio.ensure_future(idem.complete(claim, "done"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _settle()
        record = await idem.get("k")
        assert record is not None and record.value == "done"
        await client.aclose()

    asyncio.run(main())


def test_extend_is_owner_checked(idem, adapter):
    claim = idem.begin("ext", lease=100)
    assert idem.extend(claim, 5_000) is True
    adapter.sleep(0.2)
    assert idem.begin("ext", lease=100).status == "in_progress"
    assert idem.complete(claim, 1) is True
    assert idem.extend(claim, 5_000) is False  # finished: nothing to extend
