"""Lock operations with scripted replies."""

from __future__ import annotations

import pytest

from goscope_redis import LockTimeoutError, scripts
from goscope_redis.effects import Call, Clock, Eval, Sleep
from goscope_redis.keys import KeySpace
from goscope_redis.ops import lock as ops

from .scripted import drive

KEYS = KeySpace("p:", "lock")


LOCK_KEYS = ("p:lock:{job}", "p:lock:{job}:fence", "p:lock:{job}:poller", "p:lock:{job}:starving")


def test_acquire_is_one_script_over_lock_fence_and_waiter_keys():
    effects, result = drive(ops.acquire(KEYS, "job", "me", 500), [[1, 7]])
    assert effects == [
        Eval(
            scripts.LOCK_ACQUIRE,
            LOCK_KEYS,
            ("me", 500, ops.ONE_TRY),
        )
    ]
    assert result == ops.Acquired(True, 7, 0)


def test_acquire_refused_reports_holders_remaining_lease_and_the_poll_role():
    _, result = drive(ops.acquire(KEYS, "job", "me", 500), [[0, 321, 0]])
    assert not result.ok and result.retry_ms == 321 and not result.poll
    _, result = drive(ops.acquire(KEYS, "job", "me", 500, ops.WAITER), [[0, 321, 1]])
    assert result.poll


def test_release_wakes_waiters_through_signal_list_unless_one_polls():
    effects, ok = drive(ops.release(KEYS, "job", "me"), [1])
    assert ok is True
    assert effects[0].keys == (
        "p:lock:{job}",
        "p:lock:{job}:signal",
        "p:lock:{job}:poller",
        "p:lock:{job}:turn",
    )
    assert effects[0].args == ("me", ops.SIGNAL_TTL_MS)


def test_waiting_acquire_blocks_on_signal_bounded_by_holder_lease():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=5.0)
    effects, token = drive(op, [[0, 250, 0], 0.0, (b"sig", b"1"), 0.001, [1, 9]])
    assert token == 9
    # A waiter says so from the start (and that it holds no waiter's role yet); then it retries
    # as a plain waiter.
    assert effects[0].args[2:] == (ops.FIRST_WAIT, b"50", b"200", b"500")
    assert effects[4].args[2:] == (ops.WAITER, b"50", b"200", b"500")
    assert effects[2] == Call(("BLPOP", "p:lock:{job}:signal", 0.251))


def test_waiting_acquire_caps_block_at_max_block():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=0.5)
    effects, _ = drive(op, [[0, -1, 0], 0.0, None, 0.5, [1, 3]])
    assert effects[2] == Call(("BLPOP", "p:lock:{job}:signal", 0.5))


def test_the_poller_retries_after_a_short_local_sleep():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=5.0)
    effects, token = drive(op, [[0, 9000, 1], 0.0, None, 0.005, [1, 4]])
    assert token == 4
    assert effects[2] == Sleep(ops.POLL_S)  # not a BLPOP: Redis times those out coarsely


def test_a_waiter_past_the_starvation_limit_reserves_the_next_turn_and_parks():
    # Past the starvation limit it retries as STARVING (the script reserves the next turn) and,
    # told it is parked, blocks on the turn list that only a release pushes to for it, bounded
    # by PARK_S: not on the signal list, and not a poll.
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=5.0)
    replies = [[0, 9000, 1], 0.0, None, ops.STARVE_S + 0.001, [0, 8000, 2], (b"t", b"1"), 0.3]
    effects, token = drive(op, [*replies, [1, 6]])
    assert token == 6
    assert effects[4].args[2] == ops.STARVING
    assert effects[5] == Call(("BLPOP", "p:lock:{job}:turn", ops.PARK_S))
    _, parked = drive(ops.acquire(KEYS, "job", "me", 500, ops.STARVING), [[0, 8000, 2]])
    assert parked.parked and not parked.poll


def test_waiting_acquire_times_out_on_local_deadline_and_leaves_the_waiters():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 100, max_block_s=5.0)
    replies = iter([[0, 5000, 0], 10.0, 10.0, None, 10.2, [0, 4900, 0], 10.2, 1])
    effects, reply = [], None
    with pytest.raises(LockTimeoutError):
        while True:
            effects.append(op.send(reply))
            reply = next(replies)
    # Giving up drops the waiter's polling role and reserved turn (one script) before raising.
    assert effects[-1] == Eval(
        scripts.LOCK_ABANDON, ("p:lock:{job}:poller", "p:lock:{job}:starving"), ("me",)
    )


def test_wait_zero_tries_once():
    effects = []
    with pytest.raises(LockTimeoutError):
        effects, _ = drive(ops.acquire_waiting(KEYS, "job", "me", 500, 0, 5.0), [[0, 10, 0]])
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 0, 5.0)
    effects, token = drive(op, [[1, 2]])
    assert token == 2 and len(effects) == 1 and not isinstance(effects[0], Clock)
    assert effects[0].args[2] == ops.ONE_TRY


def test_a_token_received_after_the_deadline_is_still_used():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 100, max_block_s=5.0)
    _, token = drive(op, [[0, 5000, 0], 10.0, 10.0, (b"s", b"1"), 10.2, [1, 4]])
    assert token == 4


def test_against_redis_a_waiter_that_takes_the_lock_leaves_its_polling_role(sync_client, prefix):
    # The acquire script itself (real Redis): a retrying waiter holding the polling role gives
    # it up when it wins; a first try never holds one, so it leaves the key alone.
    from goscope_redis.runner import run_sync

    keys = KeySpace(prefix, "lock")
    poller = keys.key("job") + ":poller"
    sync_client.set(poller, "w\nh", px=5_000)
    first = run_sync(ops.acquire(keys, "job", "w", 1_000, ops.FIRST_WAIT), sync_client)
    assert first.ok and sync_client.get(poller) == b"w\nh"
    assert run_sync(ops.release(keys, "job", "w"), sync_client)
    again = run_sync(ops.acquire(keys, "job", "w", 1_000, ops.WAITER), sync_client)
    assert again.ok and again.token > first.token
    assert sync_client.exists(poller) == 0


def test_against_redis_the_reserved_waiter_parks_and_the_release_wakes_it_alone(
    sync_client, prefix
):
    # The scripts themselves (real Redis). "s" reserves the next turn and parks: the waiters'
    # role marked parked, both leases renewed for PARK_MS. The holder's release then pushes to
    # the turn list only, never to the signal list, where another waiter blocked earlier would
    # take the token and leave the reserved lock idle.
    from goscope_redis.runner import run_sync

    keys = KeySpace(prefix, "lock")
    lock = keys.key("job")
    assert run_sync(ops.acquire(keys, "job", "h", 5_000), sync_client).ok
    assert run_sync(ops.acquire(keys, "job", "w", 5_000, ops.FIRST_WAIT), sync_client).poll
    first = run_sync(ops.acquire(keys, "job", "s", 5_000, ops.STARVING), sync_client)
    assert first.parked and not first.poll and first.retry_ms > 0
    assert sync_client.get(lock + ":poller") == b"s\nh\n!"  # taken over from the poller "w"
    assert sync_client.get(lock + ":starving") == b"s"
    assert ops.STARVING_MS < sync_client.pttl(lock + ":starving") <= ops.PARK_MS
    still = run_sync(ops.acquire(keys, "job", "s", 5_000, ops.STARVING), sync_client)
    assert still.parked  # retrying through the hold keeps it parked
    assert run_sync(ops.release(keys, "job", "h"), sync_client)
    assert sync_client.lrange(lock + ":turn", 0, -1) == [b"1"]
    # The poller's TTL is read first: its clock is then no later than the turn's, so the
    # comparison cannot fail by the millisecond that passes between the two reads.
    poller_ttl = sync_client.pttl(lock + ":poller")
    assert 0 < sync_client.pttl(lock + ":turn") <= poller_ttl
    assert sync_client.exists(lock + ":signal") == 0
    assert not run_sync(ops.acquire(keys, "job", "other", 5_000, ops.WAITER), sync_client).ok
    assert run_sync(ops.acquire(keys, "job", "s", 5_000, ops.STARVING), sync_client).ok
    assert sync_client.exists(lock + ":poller", lock + ":starving") == 0


def test_against_redis_a_forced_release_wakes_the_parked_waiter_too(sync_client, prefix):
    from goscope_redis.runner import run_sync

    keys = KeySpace(prefix, "lock")
    lock = keys.key("job")
    assert run_sync(ops.acquire(keys, "job", "h", 5_000), sync_client).ok
    assert run_sync(ops.acquire(keys, "job", "s", 5_000, ops.STARVING), sync_client).parked
    assert run_sync(ops.force_release(keys, "job"), sync_client)
    assert sync_client.lrange(lock + ":turn", 0, -1) == [b"1"]
    assert sync_client.exists(lock + ":signal") == 0
    assert run_sync(ops.acquire(keys, "job", "s", 5_000, ops.STARVING), sync_client).ok
    # Nobody parked: a forced release wakes a waiter on the signal list, as before.
    assert run_sync(ops.force_release(keys, "job"), sync_client)
    assert sync_client.lrange(lock + ":signal", 0, -1) == [b"1"]


def test_against_redis_a_release_wakes_nobody_while_a_waiter_polls(sync_client, prefix):
    from goscope_redis.runner import run_sync

    keys = KeySpace(prefix, "lock")
    lock = keys.key("job")
    assert run_sync(ops.acquire(keys, "job", "h", 5_000), sync_client).ok
    assert run_sync(ops.acquire(keys, "job", "w", 5_000, ops.FIRST_WAIT), sync_client).poll
    assert run_sync(ops.release(keys, "job", "h"), sync_client)
    assert sync_client.exists(lock + ":signal", lock + ":turn") == 0
    # No waiter polls: the release leaves one token for whoever blocks on the signal list.
    sync_client.delete(lock + ":poller")
    assert run_sync(ops.acquire(keys, "job", "h", 5_000), sync_client).ok
    assert run_sync(ops.release(keys, "job", "h"), sync_client)
    assert sync_client.lrange(lock + ":signal", 0, -1) == [b"1"]
