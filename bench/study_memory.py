"""Redis memory per item (``MEMORY USAGE key SAMPLES 0``, summed over the keys it creates).

Each row does one thing on fresh names (hold a lock, fail a breaker once, complete an idempotent
request, save a checkpoint) and measures every key that appeared, so no key layout is hard-coded
here. The peers do the same with their own storage: redis-py ``Lock`` and python-redis-lock,
pybreaker's ``CircuitRedisStorage`` and cashews' ``circuit_breaker``, asgi-idempotency-header's
Redis backend, and a raw ``SET`` of the same payload (what django-redis or a hand-rolled store
keeps). Key names count too: ours carry the prefix, the kind and a hash tag.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pybreaker
import redis_lock
from cases_breaker import cashews_cache
from cases_idempotency import RESULT
from harness import PREFIX, Env
from tables import Study, Table

from goscope_redis import Checkpoint, RedisAdapter
from goscope_redis.keys import KeySpace

RAW_RESULT = json.dumps(RESULT, separators=(",", ":")).encode()
DATA = {"cursor": "row-81920", "done": 81920, "errors": [], "batch": {"size": 512, "retry": 0}}
TTL_MS = 600_000
MANY = 100

Action = Callable[[Env, str], Any]
"""Creates one item under names that contain the given unique tag."""


def _keys(env: Env) -> set[bytes]:
    return set(env.client.scan_iter(count=1000))


def footprint(env: Env, tag: str, action: Action) -> tuple[int, int, str]:
    """(keys created, bytes, their types) by ``action(env, tag)``."""
    before = _keys(env)
    action(env, tag)
    new = sorted(_keys(env) - before)
    sizes = [int(env.client.memory_usage(k, samples=0) or 0) for k in new]
    types = ", ".join(_type(env, k) for k in new)
    return len(new), sum(sizes), types


def _type(env: Env, key: bytes) -> str:
    kind = env.client.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)


def _adapter(env: Env, tag: str) -> RedisAdapter:
    return RedisAdapter(env.client, key_prefix=f"{PREFIX}{tag}:")


# --- locks ------------------------------------------------------------------------------------


def goscope_lock(env: Env, tag: str) -> None:
    """A held lock: the lease and its fence counter."""
    assert _adapter(env, tag).acquire("orders:42", TTL_MS) is not None


def goscope_lock_released(env: Env, tag: str) -> None:
    """What stays after a release: the fence counter and the wake-up signal (60 s TTL)."""
    handle = _adapter(env, tag).acquire("orders:42", TTL_MS)
    assert handle is not None and handle.release()


def redispy_lock(env: Env, tag: str) -> None:
    """redis-py ``Lock``, held."""
    assert env.client.lock(f"{PREFIX}{tag}:orders:42", timeout=TTL_MS / 1000).acquire()


def python_redis_lock(env: Env, tag: str) -> None:
    """python-redis-lock, held."""
    lock = redis_lock.Lock(env.client, f"{PREFIX}{tag}:orders:42", expire=TTL_MS // 1000)
    assert lock.acquire(blocking=False)


# --- breakers ---------------------------------------------------------------------------------


def _fail() -> None:
    raise RuntimeError("boom")


def goscope_breaker(env: Env, tag: str) -> None:
    """A closed breaker after one failure (a closed breaker that never failed stores nothing)."""
    breaker = _adapter(env, tag).circuit_breaker("payments", failure_threshold=5)
    breaker.call(lambda: 1)
    _swallow(lambda: breaker.call(_fail))


def pybreaker_breaker(env: Env, tag: str) -> None:
    """pybreaker with ``CircuitRedisStorage``, after one failure."""
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, env.client, namespace=tag)
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30, state_storage=storage)
    breaker.call(lambda: 1)
    _swallow(lambda: breaker.call(_fail))


def cashews_breaker(env: Env, tag: str) -> None:
    """cashews ``circuit_breaker`` (60 s window), after one success and one failure."""
    with cashews_cache(env) as cache:

        @cache.circuit_breaker(errors_rate=50, period=60, ttl=30, prefix=f"{PREFIX}{tag}")
        async def guarded(fail: bool) -> int:
            if fail:
                _fail()
            return 1

        env.loop.run_until_complete(guarded(False))
        _swallow(lambda: env.loop.run_until_complete(guarded(True)))


def _swallow(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except RuntimeError:
        pass


# --- idempotency, checkpoints, cache ----------------------------------------------------------


def goscope_idempotency(env: Env, tag: str) -> None:
    """A completed idempotency record holding RESULT."""
    idem = _adapter(env, tag).idempotency
    claim = idem.begin("charge:42")
    assert idem.complete(claim, RESULT, TTL_MS)


def aih_idempotency(env: Env, tag: str) -> None:
    """asgi-idempotency-header's Redis backend: claim, then store the response."""
    from idempotency_header_middleware.backends.redis import RedisBackend

    backend = RedisBackend(env.aclient, keys_key=f"{PREFIX}{tag}:keys", response_key=tag)
    env.loop.run_until_complete(backend.store_idempotency_key("charge:42"))
    env.loop.run_until_complete(backend.store_response_data("charge:42", RESULT, 201))


def raw_set(payload: bytes) -> Action:
    """A raw ``SET`` of ``payload`` (with a TTL)."""

    def action(env: Env, tag: str) -> None:
        env.client.set(f"{PREFIX}{tag}:item:42", payload, px=TTL_MS)

    return action


def goscope_checkpoint(count: int) -> Action:
    """``count`` checkpoints of one task (data keys plus the task's index)."""

    def action(env: Env, tag: str) -> None:
        adapter = _adapter(env, tag)
        for seq in range(1, count + 1):
            adapter.save_checkpoint(Checkpoint("import", seq, DATA, progress=40.0))

    return action


def checkpoint_payload(env: Env) -> bytes:
    """The bytes one saved checkpoint stores (for the raw peer)."""
    adapter = _adapter(env, "mem-probe")
    adapter.save_checkpoint(Checkpoint("import", 1, DATA, progress=40.0))
    data = env.client.get(KeySpace(f"{PREFIX}mem-probe:", "checkpoint").key("import", "1"))
    assert isinstance(data, bytes)
    return data


def goscope_cache(env: Env, tag: str) -> None:
    """One cached JSON value."""
    _adapter(env, tag).set("user:42", RESULT, ttl=TTL_MS)


def rows(env: Env) -> list[tuple[str, str, Action, int]]:
    """(item, implementation, action, items created) for every row, ours first in each group."""
    payload = checkpoint_payload(env)
    return [
        ("lock (held)", "goscope", goscope_lock, 1),
        ("lock (held)", "redis-py Lock", redispy_lock, 1),
        ("lock (held)", "python-redis-lock", python_redis_lock, 1),
        ("lock (released)", "goscope: fence + signal", goscope_lock_released, 1),
        ("breaker (1 failure)", "goscope", goscope_breaker, 1),
        ("breaker (1 failure)", "pybreaker CircuitRedisStorage", pybreaker_breaker, 1),
        ("breaker (1 failure)", "cashews circuit_breaker", cashews_breaker, 1),
        ("idempotency record", "goscope", goscope_idempotency, 1),
        ("idempotency record", "asgi-idempotency-header", aih_idempotency, 1),
        ("idempotency record", "raw SET (same JSON)", raw_set(RAW_RESULT), 1),
        ("checkpoint", "goscope (1 in task)", goscope_checkpoint(1), 1),
        (f"checkpoint (per 1 of {MANY})", "goscope", goscope_checkpoint(MANY), MANY),
        ("checkpoint", "raw SET (same bytes)", raw_set(payload), 1),
        ("cache value", "goscope", goscope_cache, 1),
        ("cache value", "raw SET (same JSON)", raw_set(RAW_RESULT), 1),
    ]


def run(env: Env) -> Table:
    """The memory table."""
    table = []
    for i, (item, label, action, count) in enumerate(rows(env)):
        keys, size, types = footprint(env, f"mem{i}", action)
        per_item: int | float = keys if count == 1 else round(keys / count, 2)
        table.append((item, label, per_item, round(size / count), types if count == 1 else "-"))
    columns = ("item", "implementation", "keys/item", "bytes/item", "key types")
    notes = ("MEMORY USAGE key SAMPLES 0, summed over every key the item created.",)
    return Table("memory", "Redis memory per item", columns, tuple(table), notes)


STUDIES = (Study("study.memory", run),)
