"""Lock contract: runs on {sync, async} x {real redis-server, fakeredis}."""

from __future__ import annotations

import pytest

from goscope_redis import LockLostError, LockTimeoutError
from goscope_redis.keys import KeySpace


def test_acquire_returns_handle_with_fencing_token(adapter):
    handle = adapter.acquire("job", 5_000)
    assert handle is not None
    assert handle.key == "job" and len(handle.owner) >= 32
    assert handle.fencing_token >= 1
    assert handle.is_valid()


def test_second_owner_is_refused_while_held(adapter):
    assert adapter.acquire("job", 5_000, owner="a") is not None
    assert adapter.acquire("job", 5_000, owner="b") is None


def test_same_owner_reacquire_refreshes_ttl_and_keeps_token(adapter):
    first = adapter.acquire("job", 100, owner="a")
    again = adapter.acquire("job", 5_000, owner="a")
    assert again is not None and again.fencing_token == first.fencing_token
    adapter.sleep(0.2)
    assert again.is_valid()  # the refresh extended the lease past the first 100 ms


def test_fencing_tokens_increase_even_after_expiry(adapter):
    tokens = []
    for i in range(3):
        handle = adapter.acquire("job", 40, owner=f"o{i}")
        tokens.append(handle.fencing_token)
        adapter.sleep(0.1)  # let it expire instead of releasing
    handle = adapter.acquire("job", 1_000)
    tokens.append(handle.fencing_token)
    handle.release()
    tokens.append(adapter.acquire("job", 1_000).fencing_token)
    assert tokens == sorted(set(tokens))


def test_a_counter_ahead_of_the_clock_still_gives_a_higher_token(adapter, raw, prefix):
    # Tokens are max(last + 1, Redis TIME in µs): a counter already past the clock (two tokens
    # in one microsecond, or a server clock that stepped back) goes on from the counter.
    fence = KeySpace(prefix, "lock").key("job") + ":fence"
    ahead = 5 * 10**15  # µs: the year 2128, yet below 2^53 (Lua numbers are doubles)
    raw.set(fence, str(ahead))
    handle = adapter.acquire("job", 5_000)
    assert handle.fencing_token == ahead + 1
    handle.release()
    assert adapter.acquire("job", 5_000).fencing_token == ahead + 2
    assert int(raw.get(fence)) == ahead + 2


def test_a_fresh_token_is_the_redis_clock_in_microseconds(adapter, raw, prefix):
    # A fresh lock's token is Redis TIME in µs, joined from TIME's two parts. Early in each
    # second the microseconds part has fewer than 6 digits and must be zero-padded: wait for
    # that moment (it comes within a second), then take a fresh lock.
    for i in range(5):
        while int(raw.time()[1]) >= 50_000:
            adapter.sleep(0.005)
        before = _micros(raw.time())
        handle = adapter.acquire(f"fresh:{i}", 5_000)
        after = _micros(raw.time())
        assert before <= handle.fencing_token <= after
        fence = KeySpace(prefix, "lock").key(f"fresh:{i}") + ":fence"
        assert raw.get(fence) == str(handle.fencing_token).encode()  # the same integer, stored
        handle.release()
        if handle.fencing_token % 1_000_000 < 100_000:
            return
    pytest.fail("never caught the clock early in a second")


def _micros(time_reply: tuple[int, int]) -> int:
    return int(time_reply[0]) * 1_000_000 + int(time_reply[1])


def test_release_by_non_owner_keeps_lock(adapter):
    handle = adapter.acquire("job", 5_000, owner="a")
    assert adapter.release("job", "b") is False
    assert handle.is_valid()
    assert adapter.release("job", "a") is True
    assert not handle.is_valid()


def test_release_after_expiry_does_not_delete_new_holder(adapter):
    stale = adapter.acquire("job", 40, owner="a")
    adapter.sleep(0.1)
    fresh = adapter.acquire("job", 5_000, owner="b")
    assert stale.release() is False
    assert fresh.is_valid()


def test_extend_is_owner_checked(adapter):
    handle = adapter.acquire("job", 80, owner="a")
    assert adapter.extend("job", 5_000, "b") is False
    assert handle.extend(5_000) is True
    adapter.sleep(0.15)
    assert handle.is_valid()


def test_force_release_deletes_any_holder(adapter):
    adapter.acquire("job", 5_000, owner="a")
    assert adapter.force_release("job") is True
    assert adapter.force_release("job") is False
    assert adapter.acquire("job", 5_000, owner="b") is not None


@pytest.mark.parametrize("bad", [0, -5, True, 2.5])
def test_bad_ttl_raises_and_takes_nothing(adapter, bad):
    with pytest.raises(ValueError):
        adapter.acquire("job", bad)
    assert adapter.acquire("job", 1_000, owner="x") is not None


def test_handle_context_manager_releases(adapter):
    handle = adapter.acquire("job", 5_000)
    with handle:
        assert handle.is_valid()
    assert adapter.acquire("job", 5_000, owner="other") is not None


def test_lock_context_acquires_and_releases(adapter):
    with adapter.lock("job", 5_000) as handle:
        assert handle.is_valid()
        assert adapter.acquire("job", 1_000, owner="other") is None
    assert adapter.acquire("job", 1_000, owner="other") is not None


def test_lock_wait_zero_fails_at_once(adapter):
    adapter.acquire("job", 5_000, owner="a")
    with pytest.raises(LockTimeoutError) as info, adapter.lock("job", 1_000, wait=0):
        pass
    assert info.value.key == "job"


def test_lock_wait_times_out(adapter):
    adapter.acquire("job", 5_000, owner="a")
    with pytest.raises(LockTimeoutError), adapter.lock("job", 1_000, wait=100):
        pass


def test_lock_waits_for_expiry_of_a_dead_holder(adapter):
    adapter.acquire("job", 150, owner="dead")  # never released
    with adapter.lock("job", 1_000, wait=3_000) as handle:
        assert handle.is_valid()


def test_auto_extend_keeps_lease_past_ttl(adapter):
    with adapter.lock("job", 150) as handle:
        adapter.sleep(0.5)
        assert handle.is_valid()
        assert not handle.lost


def test_lost_lease_sets_lost_and_raises_at_exit(adapter):
    seen = []
    with pytest.raises(LockLostError), adapter.lock("job", 150, on_lost=seen.append) as handle:
        adapter.force_release("job")
        adapter.sleep(0.4)
        assert handle.lost
    assert len(seen) == 1


def test_without_auto_extend_the_lease_runs_out(adapter):
    with adapter.lock("job", 100, auto_extend=False) as handle:
        adapter.sleep(0.25)
        assert not handle.is_valid()


def test_a_waiter_that_gives_up_leaves_no_reservation_behind(adapter):
    holder = adapter.acquire("job", 5_000)
    # 150 ms: long enough to have polled and to have reserved the next turn (50 ms).
    with pytest.raises(LockTimeoutError), adapter.lock("job", 1_000, wait=150):
        pass
    holder.release()
    taker = adapter.acquire("job", 1_000)  # at once: nothing of the quitter stands in the way
    assert taker is not None
    taker.release()


def test_a_reserved_turn_blocks_everyone_but_the_waiter_that_reserved_it(adapter, raw, prefix):
    # A waiter that waited past the starvation limit reserves the next turn (the starving key):
    # a free lock then goes to it and to nobody else, and taking it ends the reservation.
    lock = KeySpace(prefix, "lock").key("job")
    raw.set(lock + ":starving", "patient", px=5_000)
    assert adapter.acquire("job", 1_000) is None
    assert adapter.acquire("job", 1_000, owner="barger") is None
    handle = adapter.acquire("job", 1_000, owner="patient")
    assert handle is not None
    assert raw.exists(lock + ":starving") == 0
    handle.release()
    assert adapter.acquire("job", 1_000) is not None  # no reservation left


def test_a_polling_waiter_never_blocks_a_free_lock(adapter, raw, prefix):
    # The poller key only says who retries on a short interval; it reserves nothing.
    lock = KeySpace(prefix, "lock").key("job")
    raw.set(lock + ":poller", "someone\nholder", px=5_000)
    handle = adapter.acquire("job", 1_000)
    assert handle is not None
    assert raw.get(lock + ":poller") == b"someone\nholder"  # another waiter's role stays
    handle.release()
