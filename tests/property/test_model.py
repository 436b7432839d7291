"""A stateful model of cache, locks and idempotency over several hostile prefixes.

After every step, the observed state equals the model's, and a ``SCAN`` over the *whole*
database finds exactly the keys the model predicts: no operation ever touches a key outside its
prefix (or leaves one behind). The server is private to this module, so the database holds
nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from goscope_redis import RedisAdapter
from goscope_redis.keys import glob_escape
from goscope_redis.testing import RedisServer

from .strategies import JSON, KEYS, PREFIXES, encoded

LONG_MS = 600_000  # nothing expires during a run: time is not part of this model
SLOT = st.integers(0, 2)  # which prefix (modulo how many there are)
OWNERS = st.sampled_from(["alice", "bob"])
FINGERPRINTS = st.sampled_from([None, "f1", "f2"])


class Model(RuleBasedStateMachine):
    client: redis.Redis

    @initialize(prefixes=st.lists(PREFIXES, min_size=2, max_size=3, unique=True))
    def start(self, prefixes: list[str]) -> None:
        self.client.flushdb()
        self.prefixes = prefixes
        self.adapters = [RedisAdapter(self.client, p) for p in prefixes]
        self.cache: dict[tuple[int, str], Any] = {}
        self.locks: dict[tuple[int, str], str] = {}
        self.fenced: set[tuple[int, str]] = set()
        self.signalled: set[tuple[int, str]] = set()
        self.records: dict[tuple[int, str], tuple[str, Any, str | None]] = {}
        self.claims: list[tuple[int, Any]] = []

    def _slot(self, i: int) -> int:
        return i % len(self.prefixes)

    # ---- cache ----------------------------------------------------------------------------

    @rule(i=SLOT, key=KEYS, value=JSON)
    def cache_set(self, i: int, key: str, value: Any) -> None:
        i = self._slot(i)
        self.adapters[i].set(key, value, ttl=LONG_MS)
        self.cache[i, key] = value

    @rule(i=SLOT, key=KEYS, value=JSON)
    def cache_add(self, i: int, key: str, value: Any) -> None:
        i = self._slot(i)
        assert self.adapters[i].add(key, value, ttl=LONG_MS) is ((i, key) not in self.cache)
        self.cache.setdefault((i, key), value)

    @rule(i=SLOT, key=KEYS)
    def cache_delete(self, i: int, key: str) -> None:
        i = self._slot(i)
        assert self.adapters[i].delete(key) is ((i, key) in self.cache)
        self.cache.pop((i, key), None)

    @rule(i=SLOT, key=KEYS, delta=st.integers(-5, 5))
    def cache_incr(self, i: int, key: str, delta: int) -> None:
        i = self._slot(i)
        current = self.cache.get((i, key), 0)
        if isinstance(current, bool) or not isinstance(current, int):
            with pytest.raises(ValueError):
                self.adapters[i].incr(key, delta)
            return
        assert self.adapters[i].incr(key, delta) == current + delta
        self.cache[i, key] = current + delta

    @rule(i=SLOT, key=KEYS)
    def cache_keys_with_a_literal_pattern(self, i: int, key: str) -> None:
        i = self._slot(i)
        expected = [key] if (i, key) in self.cache else []
        assert self.adapters[i].keys(glob_escape(key)) == expected

    @rule(i=SLOT, key=KEYS)
    def cache_delete_pattern(self, i: int, key: str) -> None:
        i = self._slot(i)
        assert self.adapters[i].delete_pattern(glob_escape(key)) == int((i, key) in self.cache)
        self.cache.pop((i, key), None)

    @rule(i=SLOT)
    def cache_clear(self, i: int) -> None:
        i = self._slot(i)
        mine = [k for k in self.cache if k[0] == i]
        assert self.adapters[i].clear() == len(mine)
        for k in mine:
            del self.cache[k]

    # ---- locks ----------------------------------------------------------------------------

    @rule(i=SLOT, name=KEYS, owner=OWNERS)
    def lock_acquire(self, i: int, name: str, owner: str) -> None:
        i = self._slot(i)
        handle = self.adapters[i].acquire(name, LONG_MS, owner=owner)
        free_or_mine = self.locks.get((i, name), owner) == owner
        assert (handle is not None) is free_or_mine
        if handle is not None:
            self.locks[i, name] = owner
            self.fenced.add((i, name))

    @rule(i=SLOT, name=KEYS, owner=OWNERS)
    def lock_release(self, i: int, name: str, owner: str) -> None:
        i = self._slot(i)
        mine = self.locks.get((i, name)) == owner
        assert self.adapters[i].release(name, owner) is mine
        if mine:
            del self.locks[i, name]
            self.signalled.add((i, name))

    @rule(i=SLOT, name=KEYS)
    def lock_force_release(self, i: int, name: str) -> None:
        i = self._slot(i)
        held = (i, name) in self.locks
        assert self.adapters[i].force_release(name) is held
        if held:
            del self.locks[i, name]
            self.signalled.add((i, name))

    # ---- idempotency ----------------------------------------------------------------------

    @rule(i=SLOT, key=KEYS, fp=FINGERPRINTS)
    def idem_begin(self, i: int, key: str, fp: str | None) -> None:
        i = self._slot(i)
        claim = self.adapters[i].idempotency.begin(key, fingerprint=fp, lease=LONG_MS)
        record = self.records.get((i, key))
        if record is None:
            assert claim.status == "started"
            self.records[i, key] = ("run", claim.owner, fp)
            self.claims.append((i, claim))
        elif fp is not None and record[2] is not None and fp != record[2]:
            assert claim.status == "mismatch"
        elif record[0] == "run":
            assert claim.status == "in_progress"
        else:
            assert claim.status == "completed" and claim.record.value == record[1]

    @precondition(lambda self: self.claims)
    @rule(pick=st.integers(0, 100), value=JSON)
    def idem_complete(self, pick: int, value: Any) -> None:
        i, claim = self.claims[pick % len(self.claims)]
        record = self.records.get((i, claim.key))
        # Stored while the claim still runs, or when its record is gone (abandoned, or the lease
        # ran out) and nobody took over: nothing newer exists then.
        stored = record is None or record[:2] == ("run", claim.owner)
        assert self.adapters[i].idempotency.complete(claim, value, ttl=LONG_MS) is stored
        if stored:
            self.records[i, claim.key] = ("done", value, claim.fingerprint)

    @precondition(lambda self: self.claims)
    @rule(pick=st.integers(0, 100))
    def idem_abandon(self, pick: int) -> None:
        i, claim = self.claims[pick % len(self.claims)]
        record = self.records.get((i, claim.key))
        mine = record is not None and record[:2] == ("run", claim.owner)
        assert self.adapters[i].idempotency.abandon(claim) is mine
        if mine:
            del self.records[i, claim.key]

    @rule(i=SLOT, key=KEYS)
    def idem_delete(self, i: int, key: str) -> None:
        i = self._slot(i)
        assert self.adapters[i].idempotency.delete(key) is ((i, key) in self.records)
        self.records.pop((i, key), None)

    # ---- what must hold after every step --------------------------------------------------

    @invariant()
    def cache_reads_match_the_model(self) -> None:
        for i, adapter in enumerate(getattr(self, "adapters", [])):
            mine = {k: v for (j, k), v in self.cache.items() if j == i}
            assert adapter.keys() == sorted(mine)
            assert adapter.get_many(list(mine)) == mine

    @invariant()
    def the_whole_database_holds_exactly_the_predicted_keys(self) -> None:
        if not hasattr(self, "prefixes"):
            return
        found = {k.decode() for k in self.client.scan_iter(count=1000)}
        assert found == self._predicted()

    def _predicted(self) -> set[str]:
        def key(i: int, kind: str, name: str, suffix: str = "") -> str:
            return f"{self.prefixes[i]}{kind}:{{{encoded(name)}}}{suffix}"

        keys = {key(i, "cache", k) for i, k in self.cache}
        keys |= {key(i, "lock", n) for i, n in self.locks}
        keys |= {key(i, "lock", n, ":fence") for i, n in self.fenced}
        keys |= {key(i, "lock", n, ":signal") for i, n in self.signalled}
        keys |= {key(i, "idempotency", k) for i, k in self.records}
        return keys


@pytest.fixture(scope="module")
def model_client() -> Iterator[redis.Redis]:
    with RedisServer() as server:
        client = redis.Redis(port=server.port)
        yield client
        client.close()


def test_cache_locks_and_idempotency_follow_the_model_and_stay_in_their_prefix(model_client):
    Model.client = model_client
    run_state_machine_as_test(Model)


@given(prefix=PREFIXES, brace=st.sampled_from(["{", "}"]), at=st.integers(0, 6))
def test_a_prefix_with_a_brace_is_rejected_before_anything_is_written(
    model_client, prefix, brace, at
):
    bad = prefix[:at] + brace + prefix[at:]
    with pytest.raises(ValueError, match="brace"):
        RedisAdapter(model_client, bad)
