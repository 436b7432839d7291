"""Cache operations. Each is one round trip, except ``clear``/``keys``, which walk ``SCAN``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from redis.exceptions import ResponseError

from goscope_redis import scripts
from goscope_redis.codecs.codec import MISS, Codec
from goscope_redis.effects import Batch, Call, Eval, NodeCall, Op, Primaries
from goscope_redis.keys import KeySpace, validate_key

SCAN_COUNT: Final = 1000
"""Keys per ``SCAN`` step and per ``UNLINK``: small batches keep Redis responsive."""


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """What cache operations need: the key space, the codec, and whether Redis is a Cluster."""

    keys: KeySpace
    codec: Codec
    cluster: bool = False


def get(spec: CacheSpec, key: str, default: Any = None) -> Op[Any]:
    """``GET``; a miss (or a value failing its signature) returns ``default``."""
    return (yield from get_keyed(spec, key, spec.keys.key(key), default))


def get_keyed(spec: CacheSpec, name: str, rkey: str, default: Any = None) -> Op[Any]:
    """:func:`get` with the Redis key already made (``name`` is the key messages show)."""
    data = yield Call(("GET", rkey))
    if data is None:
        return default
    value = spec.codec.decode(name, data)
    return default if value is MISS else value


def get_with_ttl(spec: CacheSpec, key: str, default: Any = None) -> Op[tuple[Any, int]]:
    """The value (or ``default``) and its remaining ms (-1: no expiry, -2: missing)."""
    data, pttl = yield Eval(scripts.CACHE_GET_TTL, (spec.keys.key(key),), ())
    if data is None:
        return default, int(pttl)
    value = spec.codec.decode(key, data)
    return (default if value is MISS else value), int(pttl)


def set_(spec: CacheSpec, key: str, value: Any, ttl_ms: int | None) -> Op[None]:
    """``SET`` with a millisecond TTL (``PX``), or without expiry."""
    yield from set_keyed(spec, key, spec.keys.key(key), value, ttl_ms)


def set_keyed(spec: CacheSpec, name: str, rkey: str, value: Any, ttl_ms: int | None) -> Op[None]:
    """:func:`set_` with the Redis key already made (``name`` is the key messages show)."""
    data = spec.codec.encode(name, value)
    yield Call(("SET", rkey, data) if ttl_ms is None else ("SET", rkey, data, "PX", ttl_ms))


def add(spec: CacheSpec, key: str, value: Any, ttl_ms: int | None) -> Op[bool]:
    """``SET NX``: store only if absent; return whether it was stored."""
    rkey = spec.keys.key(key)
    data = spec.codec.encode(key, value)
    args: tuple[Any, ...] = ("SET", rkey, data, "NX")
    reply = yield Call(args if ttl_ms is None else (*args, "PX", ttl_ms))
    return bool(reply)


def delete(spec: CacheSpec, key: str) -> Op[bool]:
    """``UNLINK`` one key; return whether it existed."""
    reply = yield Call(("UNLINK", spec.keys.key(key)))
    return int(reply) > 0


def has(spec: CacheSpec, key: str) -> Op[bool]:
    """``EXISTS``."""
    reply = yield Call(("EXISTS", spec.keys.key(key)))
    return int(reply) > 0


def incr(spec: CacheSpec, key: str, delta: int, must_exist: bool = False) -> Op[int]:
    """Atomically add ``delta`` (``INCRBY`` keeps the TTL); a missing key starts at 0."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise TypeError(f"delta must be int, not {type(delta).__name__}")
    rkey = spec.keys.key(key)
    try:
        if not must_exist:
            return int((yield Call(("INCRBY", rkey, delta))))
        reply = yield Eval(scripts.CACHE_INCR, (rkey,), (delta, "1"))
    except ResponseError as exc:
        raise ValueError(f"cache value under key {key!r} is not an integer: {exc}") from None
    if reply[0] == 0:
        raise ValueError(f"cache key {key!r} not found")
    return int(reply[1])


def get_many(spec: CacheSpec, keys: Iterable[str]) -> Op[dict[str, Any]]:
    """``MGET`` (one round trip; a pipeline of ``GET`` on Cluster); misses are left out."""
    user_keys = list(keys)
    return (yield from get_many_keyed(spec, user_keys, [spec.keys.key(k) for k in user_keys]))


def get_many_keyed(
    spec: CacheSpec,
    keys: Sequence[Any],
    rkeys: Sequence[str],
    label: Callable[[Any], str] | None = None,
) -> Op[dict[Any, Any]]:
    """:func:`get_many` with the Redis keys already made: ``rkeys[i]`` is that of ``keys[i]``;
    ``label(key)`` names a key in messages (default: the key itself)."""
    if not rkeys:
        return {}
    if spec.cluster:
        replies = yield Batch([Call(("GET", k)) for k in rkeys])
        # A pipeline reports a failed GET as its exception: treat it as a miss.
        replies = [None if isinstance(data, Exception) else data for data in replies]
    else:
        replies = yield Call(("MGET", *rkeys))
    return spec.codec.decode_many(keys, replies, label)


def set_many(spec: CacheSpec, mapping: Mapping[str, Any], ttl_ms: int | None) -> Op[None]:
    """Store every item in one round trip. Everything is encoded first: bad input writes nothing."""
    encoded = [(spec.keys.key(k), spec.codec.encode(k, v)) for k, v in mapping.items()]
    if not encoded:
        return None
    if ttl_ms is None and not spec.cluster:
        yield Call(("MSET", *[part for pair in encoded for part in pair]))
        return None
    tail: tuple[Any, ...] = () if ttl_ms is None else ("PX", ttl_ms)
    replies = yield Batch([Call(("SET", k, d, *tail)) for k, d in encoded])
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return None


def scan(match: str, count: int = SCAN_COUNT, *, cluster: bool = False) -> Op[list[Any]]:
    """Walk ``SCAN`` (on every primary of a Cluster) until each cursor returns to 0."""
    found: list[Any] = []
    for node in (yield from scan_nodes(cluster)):
        cursor = 0
        while True:
            cursor, batch = yield from scan_step(node, cursor, match, count)
            found.extend(batch)
            if cursor == 0:
                break
    return found


def scan_nodes(cluster: bool) -> Op[Sequence[Any]]:
    """Where a ``SCAN`` walk goes: every primary of a Cluster (each keeps its own cursor and sees
    only its own keys), else the one server (``None``)."""
    if not cluster:
        return (None,)
    return tuple((yield Primaries()))


def scan_step(node: Any, cursor: int, match: str, count: int) -> Op[tuple[int, list[Any]]]:
    """One ``SCAN`` step on ``node`` (from :func:`scan_nodes`): the next cursor and the keys."""
    args = ("SCAN", cursor, "MATCH", match, "COUNT", count)
    cursor, batch = yield Call(args) if node is None else NodeCall(node, args)
    return int(cursor), list(batch)


def keys(spec: CacheSpec, pattern: str | None = None) -> Op[list[str]]:
    """User keys (without prefix) matching the glob ``pattern`` inside this cache."""
    if pattern is not None:
        validate_key(pattern)
    raw = yield from scan(spec.keys.match(pattern), cluster=spec.cluster)
    return sorted({spec.keys.user_key(k) for k in raw})


def clear(spec: CacheSpec, pattern: str | None = None) -> Op[int]:
    """Delete this cache's keys (matching ``pattern``): ``SCAN`` in batches, ``UNLINK`` each."""
    if pattern is not None:
        validate_key(pattern)
    return (yield from clear_matching(spec, spec.keys.match(pattern), SCAN_COUNT))


def clear_matching(spec: CacheSpec, match: str, count: int) -> Op[int]:
    """Delete the keys matching the glob ``match`` (already prefixed), ``count`` per ``SCAN``.

    On Cluster, ``SCAN`` sees one node's keys only, so every primary is walked in turn. Each
    batch is unlinked before the next step: no step blocks Redis for long, however many keys.
    """
    deleted = 0
    for node in (yield from scan_nodes(spec.cluster)):
        cursor = 0
        while True:
            cursor, batch = yield from scan_step(node, cursor, match, count)
            deleted += yield from unlink(spec, batch)
            if cursor == 0:
                break
    return deleted


def unlink(spec: CacheSpec, redis_keys: Sequence[Any]) -> Op[int]:
    """``UNLINK`` Redis keys (as ``SCAN`` returned them); return how many existed."""
    if not redis_keys:
        return 0
    if not spec.cluster:
        return int((yield Call(("UNLINK", *redis_keys))))
    # On Cluster every cache key has its own hash tag, so delete one key per command.
    replies = yield Batch([Call(("UNLINK", k)) for k in redis_keys])
    return sum(int(r) for r in replies if not isinstance(r, Exception))
