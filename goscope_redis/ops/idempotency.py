"""Idempotency operations: the claim state machine, one atomic script per step.

Theory of operation
-------------------
Each idempotency key is one Redis hash, ``<prefix>idempotency:{<key>}``, in one of these states::

    ABSENT  --begin------------------->  RUNNING(owner, fingerprint)   key TTL = lease
    RUNNING --complete(owner)--------->  DONE('ok' | 'err', value)     key TTL = ttl, or none
    RUNNING --abandon(owner)---------->  ABSENT
    RUNNING --lease runs out---------->  ABSENT    (Redis expires the key; the next begin wins)
    DONE    --ttl runs out / delete--->  ABSENT

The hash fields are ``s`` (``run``, ``ok`` or ``err``), ``o`` (the claim's owner token), ``f``
(the fingerprint), ``v`` (the encoded value) and ``t`` (Redis ``TIME`` in ms when the record
entered its current state; the operator CLI shows it as the record's age).

``begin`` on an existing record writes nothing and answers ``mismatch`` (both sides carry a
fingerprint and they differ), ``in_progress`` (RUNNING; ``retry_after`` is the lease's PTTL) or
``completed`` (DONE; the record comes back in the same round trip, so a replay costs one).
Because the lease *is* the key's TTL, a worker that dies frees the key on Redis' clock alone;
no worker clock is ever compared.

The owner token is random per ``begin``. ``complete`` and ``abandon`` compare it inside their
script, so a stale worker whose lease ran out and was then claimed by someone else can neither
overwrite nor delete the newer record. If the lease ran out and *nobody* claimed the key,
``complete`` still stores the result: nothing newer exists, and a retry is spared from running
the work a second time.

Success ('ok') and failure ('err') are distinct states of the envelope, and the value is encoded
by the adapter's codec, so a stored failure is never replayed as a success, and a stored
``None`` is a result rather than a miss. Records that fail their signature check raise instead
of reading as absent: idempotency fails closed, it never re-runs work on a doubtful read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goscope_redis import scripts
from goscope_redis.codecs.codec import MISS, Codec
from goscope_redis.effects import Call, Eval, Op, Script
from goscope_redis.errors import GoScopeRedisError
from goscope_redis.idempotency_records import Claim, IdempotencyRecord
from goscope_redis.keys import KeySpace

BEGIN = scripts.register(Script.load("idem_begin"))
COMPLETE = scripts.register(Script.load("idem_complete"))
ABANDON = scripts.register(Script.load("idem_abandon"))
GET = scripts.register(Script.load("idem_get"))
EXTEND = scripts.register(Script.load("idem_extend"))


@dataclass(frozen=True, slots=True)
class IdempotencySpec:
    """What idempotency operations need: the key space and the adapter's codec."""

    keys: KeySpace
    codec: Codec


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fingerprint(key: str, fingerprint: object) -> str:
    if fingerprint is None:
        return ""
    if not isinstance(fingerprint, str) or not fingerprint:
        raise ValueError(
            f"idempotency key {key!r}: fingerprint must be a non-empty str or None, "
            f"got {fingerprint!r}"
        )
    return fingerprint


def _record(spec: IdempotencySpec, key: str, reply: Any) -> IdempotencyRecord:
    state, data, pttl, now_ms = reply
    value = spec.codec.decode(key, data)
    if value is MISS:
        raise GoScopeRedisError(
            f"the idempotency record of key {key!r} failed verification; refusing to replay or "
            "re-run it. Check that every writer uses the same serializer secret."
        )
    pttl = int(pttl)
    expires_at = int(now_ms) + pttl if pttl >= 0 else None
    return IdempotencyRecord(value, expires_at, is_error=_text(state) == "err")


def begin(
    spec: IdempotencySpec, key: str, owner: str, lease_ms: int, fingerprint: str | None
) -> Op[Claim]:
    """Claim ``key`` for ``lease_ms`` or report it in progress, completed or mismatched."""
    rkey = spec.keys.key(key)
    fp = _fingerprint(key, fingerprint)
    reply = yield Eval(BEGIN, (rkey,), (owner, lease_ms, fp))
    status = _text(reply[0])
    if status == "started":
        return Claim("started", key, owner=owner, fingerprint=fingerprint)
    if status == "mismatch":
        return Claim("mismatch", key, fingerprint=fingerprint)
    if status == "in_progress":
        return Claim("in_progress", key, fingerprint=fingerprint, retry_after=max(int(reply[1]), 0))
    return Claim("completed", key, fingerprint=fingerprint, record=_record(spec, key, reply))


def complete(
    spec: IdempotencySpec, claim: Claim, value: Any, ttl_ms: int | None, error: bool
) -> Op[bool]:
    """Store the claim's result if it still owns the key; return whether it was stored."""
    owner = _started_owner(claim, "complete")
    data = spec.codec.encode(claim.key, value)
    fp = _fingerprint(claim.key, claim.fingerprint)
    args = (owner, "err" if error else "ok", data, ttl_ms or 0, fp)
    return int((yield Eval(COMPLETE, (spec.keys.key(claim.key),), args))) == 1


def abandon(spec: IdempotencySpec, claim: Claim) -> Op[bool]:
    """Delete the claim's in-progress record if it still owns it."""
    owner = _started_owner(claim, "abandon")
    return int((yield Eval(ABANDON, (spec.keys.key(claim.key),), (owner,)))) == 1


def extend(spec: IdempotencySpec, claim: Claim, lease_ms: int) -> Op[bool]:
    """Reset the claim's lease to ``lease_ms`` if it still owns the in-progress record."""
    owner = _started_owner(claim, "extend")
    return int((yield Eval(EXTEND, (spec.keys.key(claim.key),), (owner, lease_ms)))) == 1


def get(spec: IdempotencySpec, key: str) -> Op[IdempotencyRecord | None]:
    """The finished record of ``key`` with its expiry (``None`` if absent or in progress)."""
    reply = yield Eval(GET, (spec.keys.key(key),), ())
    return None if reply is None else _record(spec, key, reply)


def set_(spec: IdempotencySpec, key: str, value: Any, ttl_ms: int | None, error: bool) -> Op[None]:
    """Store a finished record unconditionally (replacing any claim)."""
    rkey = spec.keys.key(key)
    data = spec.codec.encode(key, value)
    yield Eval(COMPLETE, (rkey,), ("", "err" if error else "ok", data, ttl_ms or 0, ""))


def delete(spec: IdempotencySpec, key: str) -> Op[bool]:
    """Delete the record of ``key`` whatever its state; return whether it existed."""
    return int((yield Call(("UNLINK", spec.keys.key(key))))) > 0


def _started_owner(claim: Claim, action: str) -> str:
    if not isinstance(claim, Claim):
        raise TypeError(f"{action}() needs the Claim returned by begin(), not {claim!r}")
    if claim.status != "started" or not claim.owner:
        raise ValueError(
            f"idempotency key {claim.key!r}: only a 'started' claim can {action}, "
            f"this one is {claim.status!r}"
        )
    return claim.owner
