"""``clear-cache``: deletes this prefix's cache entries only, and only once confirmed."""

from __future__ import annotations


def _seed(adapter, other):
    for n in range(5):
        adapter.set(f"user:{n}", n)
    adapter.acquire("orders:1", 30_000)
    other.set("user:1", "kept")


def test_clear_cache_answered_no_deletes_nothing(cli, seeded, other_adapter):
    _seed(seeded, other_adapter)
    result = cli("clear-cache", stdin="n\n")
    assert result.code == 1
    assert "Delete 5 cache entries under prefix" in result.err and "aborted" in result.err
    assert len(seeded.keys()) == 5


def test_clear_cache_with_no_answer_deletes_nothing(cli, seeded, other_adapter):
    _seed(seeded, other_adapter)
    assert cli("clear-cache", stdin="").code == 1
    assert len(seeded.keys()) == 5


def test_clear_cache_answered_yes_deletes_only_this_prefixes_cache(cli, seeded, other_adapter):
    _seed(seeded, other_adapter)
    result = cli("clear-cache", stdin="y\n")
    assert result.code == 0 and "Deleted 5 cache entries" in result.out
    assert seeded.keys() == []
    assert seeded.get_state("nope") is None and not seeded.acquire("orders:1", 1_000)
    assert other_adapter.get("user:1") == "kept"


def test_clear_cache_yes_flag_skips_the_question(cli, seeded, other_adapter):
    _seed(seeded, other_adapter)
    result = cli("clear-cache", "--yes", "--json", stdin="")
    assert result.code == 0 and result.err == ""
    assert result.json() == {"prefix": seeded.key_prefix, "deleted": 5}
    assert seeded.keys() == [] and other_adapter.get("user:1") == "kept"


def test_clear_cache_with_nothing_to_delete_asks_nothing(cli, seeded):
    result = cli("clear-cache", stdin="")
    assert result.code == 0 and result.err == "" and "Deleted 0" in result.out
