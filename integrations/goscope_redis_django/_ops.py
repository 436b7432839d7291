"""Sans-IO operations the Django contract needs beyond the core cache ops.

Like :mod:`goscope_redis.ops.cache`, each is a generator of effects that the sync and the
async runner drive, so every method of the backend is written once. Keys here are the keys as
Django made them (``KEY_PREFIX:VERSION:key``); the core key space wraps them in the hash tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from redis.exceptions import ResponseError

from goscope_redis import scripts
from goscope_redis.effects import Batch, Call, Eval, Op
from goscope_redis.ops import cache as cache_ops
from goscope_redis.ops.cache import CacheSpec

EXPIRED: Final = -1
"""A TTL meaning "expire now" (Django's ``timeout=0`` or a negative timeout)."""


# The three hot operations take the Redis keys already made (the backend remembers them, see
# ``BackendCore._keyed``): the core's keyed forms, with ``name`` the Django key messages show.
get = cache_ops.get_keyed
set_ = cache_ops.set_keyed
get_many = cache_ops.get_many_keyed


def exists(spec: CacheSpec, key: str) -> Op[bool]:
    """``EXISTS``."""
    return int((yield Call(("EXISTS", spec.keys.key(key))))) > 0


def absent(spec: CacheSpec, key: str) -> Op[bool]:
    """``add(key, value, timeout=0)``: nothing is stored; report whether it would have been."""
    return not (yield from exists(spec, key))


def expire(spec: CacheSpec, key: str, ttl_ms: int | None) -> Op[bool]:
    """Give ``key`` a new lifetime: ``None`` removes its expiry, :data:`EXPIRED` deletes it.

    Returns whether the key exists (and so was touched).
    """
    rkey = spec.keys.key(key)
    if ttl_ms is None:
        # PERSIST answers 0 for a key that exists without a TTL: ask EXISTS in the same trip.
        found, _ = yield Batch([Call(("EXISTS", rkey)), Call(("PERSIST", rkey))])
        return int(found) > 0
    if ttl_ms == EXPIRED:
        return int((yield Call(("UNLINK", rkey)))) > 0
    return int((yield Call(("PEXPIRE", rkey, ttl_ms)))) > 0


def persist(spec: CacheSpec, key: str) -> Op[bool]:
    """``PERSIST``: True if an expiry was removed."""
    return int((yield Call(("PERSIST", spec.keys.key(key))))) > 0


def pttl(spec: CacheSpec, key: str) -> Op[int | None]:
    """Remaining ms: ``None`` for a key without expiry, 0 for a missing key."""
    reply = int((yield Call(("PTTL", spec.keys.key(key)))))
    if reply == -1:
        return None
    return max(reply, 0)


def ttl(spec: CacheSpec, key: str) -> Op[int | None]:
    """Remaining whole seconds, rounded up (so a live key never reads as 0, i.e. missing)."""
    remaining = yield from pttl(spec, key)
    return None if remaining is None else -(-remaining // 1000)


def delete_many(spec: CacheSpec, keys: Sequence[str]) -> Op[int]:
    """``UNLINK`` several keys in one round trip; return how many existed."""
    return (yield from unlink(spec, [spec.keys.key(k) for k in keys]))


def move(spec: CacheSpec, old: str, new: str) -> Op[bool]:
    """Move a value to another key, keeping its TTL; False if ``old`` is missing.

    ``RENAME`` is atomic; on Cluster the two keys have different hash tags, so the value and its
    remaining lifetime are read and written in two more round trips instead.
    """
    src, dst = spec.keys.key(old), spec.keys.key(new)
    if not spec.cluster:
        try:
            yield Call(("RENAME", src, dst))
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return False
            raise
        return True
    data, remaining = yield Eval(scripts.CACHE_GET_TTL, (src,), ())
    if data is None:
        return False
    tail: tuple[Any, ...] = () if int(remaining) < 0 else ("PX", max(int(remaining), 1))
    yield Call(("SET", dst, data, *tail))
    yield Call(("UNLINK", src))
    return True


# SCAN walks (every primary of a Cluster in turn) and deleting what they find: the core's.
scan_nodes = cache_ops.scan_nodes
scan_step = cache_ops.scan_step
unlink = cache_ops.unlink
scan_delete = cache_ops.clear_matching
