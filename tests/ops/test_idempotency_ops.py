"""Idempotency operations with scripted replies: one effect (one round trip) per step."""

from __future__ import annotations

import json

import pytest

from goscope_redis import Claim, GoScopeRedisError, SignedPickleSerializer
from goscope_redis.codecs import Codec
from goscope_redis.effects import Call, Eval
from goscope_redis.keys import KeySpace
from goscope_redis.ops import idempotency as ops

from .scripted import drive

SPEC = ops.IdempotencySpec(KeySpace("p:", "idempotency"), Codec())
RKEY = "p:idempotency:{charge:9}"


def test_begin_is_one_script_and_started_carries_the_owner():
    effects, claim = drive(ops.begin(SPEC, "charge:9", "tok", 30_000, "fp"), [[b"started"]])
    assert effects == [Eval(ops.BEGIN, (RKEY,), ("tok", 30_000, "fp"))]
    assert claim == Claim("started", "charge:9", owner="tok", fingerprint="fp")


def test_begin_without_fingerprint_sends_empty_string():
    effects, _ = drive(ops.begin(SPEC, "charge:9", "tok", 100, None), [[b"started"]])
    assert effects[0].args == ("tok", 100, "")


def test_begin_in_progress_reports_remaining_lease():
    _, claim = drive(ops.begin(SPEC, "k", "tok", 100, None), [[b"in_progress", 420]])
    assert claim.status == "in_progress" and claim.retry_after == 420 and claim.owner is None


def test_begin_completed_returns_record_in_the_same_round_trip():
    reply = [b"ok", b'{"a": 1}', 1_000, 5_000_000]
    effects, claim = drive(ops.begin(SPEC, "k", "tok", 100, None), [reply])
    assert len(effects) == 1
    assert claim.status == "completed"
    assert claim.record.value == {"a": 1} and claim.record.expires_at == 5_001_000
    assert claim.record.is_error is False


def test_stored_error_decodes_as_error_record():
    _, claim = drive(ops.begin(SPEC, "k", "t", 100, None), [[b"err", b'"boom"', -1, 7]])
    assert claim.record.is_error is True and claim.record.expires_at is None


def test_begin_mismatch():
    _, claim = drive(ops.begin(SPEC, "k", "t", 100, "b"), [[b"mismatch"]])
    assert claim.status == "mismatch" and claim.record is None


def test_complete_sends_owner_state_value_ttl_and_fingerprint():
    claim = Claim("started", "charge:9", owner="tok", fingerprint="fp")
    effects, ok = drive(ops.complete(SPEC, claim, {"x": None}, 60_000, False), [1])
    assert ok is True
    (effect,) = effects
    assert effect.script is ops.COMPLETE and effect.keys == (RKEY,)
    owner, state, data, ttl, fp = effect.args
    assert (owner, state, json.loads(data), ttl, fp) == ("tok", "ok", {"x": None}, 60_000, "fp")


def test_complete_as_error_and_rejected_by_owner_check():
    claim = Claim("started", "k", owner="tok")
    effects, ok = drive(ops.complete(SPEC, claim, "boom", None, True), [0])
    assert ok is False and effects[0].args[1] == "err" and effects[0].args[3] == 0


def test_abandon_is_one_owner_checked_script():
    effects, ok = drive(ops.abandon(SPEC, Claim("started", "charge:9", owner="tok")), [1])
    assert ok is True and effects == [Eval(ops.ABANDON, (RKEY,), ("tok",))]


@pytest.mark.parametrize("status", ["in_progress", "completed", "mismatch"])
def test_only_started_claims_complete(status):
    with pytest.raises(ValueError, match="started"):
        drive(ops.complete(SPEC, Claim(status, "k"), 1, None, False), [])


def test_get_is_one_round_trip_and_none_when_absent():
    effects, record = drive(ops.get(SPEC, "charge:9"), [None])
    assert effects == [Eval(ops.GET, (RKEY,), ())] and record is None
    _, record = drive(ops.get(SPEC, "k"), [[b"ok", b"1", 50, 100]])
    assert record.value == 1 and record.expires_at == 150


def test_set_is_an_unconditional_store_and_delete_is_unlink():
    effects, _ = drive(ops.set_(SPEC, "charge:9", "v", None, False), [1])
    assert effects[0].script is ops.COMPLETE and effects[0].args[0] == ""
    effects, existed = drive(ops.delete(SPEC, "charge:9"), [1])
    assert effects == [Call(("UNLINK", RKEY))] and existed is True


def test_record_failing_its_signature_fails_closed():
    writer = Codec(SignedPickleSerializer("a"))
    spec = ops.IdempotencySpec(SPEC.keys, Codec(SignedPickleSerializer("b")))
    reply = [b"ok", writer.encode("k", {"v": 1}), -1, 1]
    with pytest.raises(GoScopeRedisError, match="failed verification"):
        drive(ops.get(spec, "k"), [reply])
