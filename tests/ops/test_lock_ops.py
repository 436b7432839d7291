"""Lock operations with scripted replies."""

from __future__ import annotations

import pytest

from goscope_redis import LockTimeoutError, scripts
from goscope_redis.effects import Call, Clock, Eval
from goscope_redis.keys import KeySpace
from goscope_redis.ops import lock as ops

from .scripted import drive

KEYS = KeySpace("p:", "lock")


def test_acquire_is_one_script_over_lock_and_fence_keys():
    effects, result = drive(ops.acquire(KEYS, "job", "me", 500), [[1, 7]])
    assert effects == [
        Eval(scripts.LOCK_ACQUIRE, ("p:lock:{job}", "p:lock:{job}:fence"), ("me", 500))
    ]
    assert result == ops.Acquired(True, 7, 7)


def test_acquire_refused_reports_holders_remaining_lease():
    _, result = drive(ops.acquire(KEYS, "job", "me", 500), [[0, 321]])
    assert not result.ok and result.retry_ms == 321


def test_release_wakes_waiters_through_signal_list():
    effects, ok = drive(ops.release(KEYS, "job", "me"), [1])
    assert ok is True
    assert effects[0].keys == ("p:lock:{job}", "p:lock:{job}:signal")


def test_waiting_acquire_blocks_on_signal_bounded_by_holder_lease():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=5.0)
    effects, token = drive(op, [[0, 250], (b"sig", b"1"), [1, 9]])
    assert token == 9
    assert effects[1] == Call(("BLPOP", "p:lock:{job}:signal", 0.251))


def test_waiting_acquire_caps_block_at_max_block():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, None, max_block_s=0.5)
    effects, _ = drive(op, [[0, -1], None, [1, 3]])
    assert effects[1] == Call(("BLPOP", "p:lock:{job}:signal", 0.5))


def test_waiting_acquire_times_out_on_local_deadline():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 100, max_block_s=5.0)
    replies = [[0, 5000], 10.0, 10.0, None, [0, 4900], 10.2]
    with pytest.raises(LockTimeoutError):
        drive(op, replies)


def test_wait_zero_tries_once():
    effects = []
    with pytest.raises(LockTimeoutError):
        effects, _ = drive(ops.acquire_waiting(KEYS, "job", "me", 500, 0, 5.0), [[0, 10]])
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 0, 5.0)
    effects, token = drive(op, [[1, 2]])
    assert token == 2 and len(effects) == 1 and not isinstance(effects[0], Clock)


def test_a_token_received_after_the_deadline_is_still_used():
    op = ops.acquire_waiting(KEYS, "job", "me", 500, 100, max_block_s=5.0)
    _, token = drive(op, [[0, 5000], 10.0, 10.0, (b"s", b"1"), [1, 4]])
    assert token == 4
