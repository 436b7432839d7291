"""Key layout: one module builds every key; the encoding is injective and Cluster-safe."""

from __future__ import annotations

import fnmatch
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from goscope_redis.keys import KeySpace, decode_key, encode_key, glob_escape


def test_layout_matches_the_documented_form():
    locks = KeySpace("myapp:", "lock")
    assert locks.key("orders:42") == "myapp:lock:{orders:42}"
    assert locks.key("orders:42", "fence") == "myapp:lock:{orders:42}:fence"
    assert (
        KeySpace("myapp:", "checkpoint").key("import-1", "12") == "myapp:checkpoint:{import-1}:12"
    )


@pytest.mark.parametrize("prefix", ["a{", "}", "x{y}"])
def test_prefix_with_braces_is_rejected(prefix):
    with pytest.raises(ValueError, match="brace"):
        KeySpace(prefix, "cache")


@pytest.mark.parametrize("key", ["", None, 3, b"k"])
def test_bad_keys_are_rejected(key):
    with pytest.raises((TypeError, ValueError)):
        KeySpace("p:", "cache").key(key)


def test_companion_keys_share_a_cluster_slot():
    space = KeySpace("p:", "lock")
    for key in ["a", "}", "a}b", "{x}", "%7D", "é"]:
        slots = {key_slot(space.key(key, s).encode()) for s in (None, "fence", "signal")}
        assert len(slots) == 1, key


prefixes = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=6)
user_keys = st.text(min_size=1, max_size=8)


@given(prefixes, user_keys, prefixes, user_keys)
def test_encoding_is_injective(p1, k1, p2, k2):
    kinds = ("cache", "lock", "checkpoint")
    suffixes = (None, "fence", "index", "12")
    for (kind1, s1), (kind2, s2) in itertools.product(itertools.product(kinds, suffixes), repeat=2):
        if (p1, k1, kind1, s1) != (p2, k2, kind2, s2):
            assert KeySpace(p1, kind1).key(k1, s1) != KeySpace(p2, kind2).key(k2, s2)


@given(user_keys)
def test_encode_decode_round_trip(key):
    assert decode_key(encode_key(key)) == key
    assert "}" not in encode_key(key)


def _redis_glob(pattern: str, text: str) -> bool:
    # fnmatch treats backslash literally; translate Redis escapes into [x] classes first.
    out, i = "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out += "[" + pattern[i + 1] + "]" if pattern[i + 1] != "]" else "[]]"
            i += 2
            continue
        out += pattern[i]
        i += 1
    return fnmatch.fnmatchcase(text, out)


@given(prefixes, prefixes, user_keys)
def test_scan_match_never_reaches_outside_the_prefix(p1, p2, key):
    mine, theirs = KeySpace(p1, "cache"), KeySpace(p2, "cache")
    if p1 != p2:
        assert not _redis_glob(mine.match(), theirs.key(key))
    assert _redis_glob(mine.match(), mine.key(key))
    assert not _redis_glob(mine.match(), mine.key(key, "fence"))


def test_glob_escape_escapes_every_metacharacter():
    assert glob_escape("a*b?c[d]e\\") == "a\\*b\\?c\\[d\\]e\\\\"


def test_user_key_recovers_original():
    space = KeySpace("p*:", "cache")
    assert space.user_key(space.key("a}b%c").encode()) == "a}b%c"
    with pytest.raises(ValueError):
        space.user_key("other:cache:{x}")
