"""The pieces both shops share, tested directly (fast; the smoke tests cover the rest)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aredis

from example_projects.shopkit import imports as job
from example_projects.shopkit.stock import FencedStock

BIG = 1_795_834_352_812_978  # lock tokens are microsecond-sized


def test_fenced_stock_refuses_an_older_token_and_stores_big_tokens_exactly(
    redis_server: Any, prefix: str
) -> None:
    async def scenario() -> list[Any]:
        client = aredis.Redis.from_url(redis_server.url)
        stock = FencedStock(client, prefix)
        try:
            return [
                await stock.reserve("42", 2, BIG),
                await stock.reserve("42", 1, BIG - 1),  # a stalled holder, one token behind
                await stock.reserve("42", 1, BIG),  # the same holder writes again
                await stock.level("42"),
            ]
        finally:
            await client.aclose()

    first, stale, again, level = asyncio.run(scenario())
    assert (first.outcome, first.left, first.last_token) == ("ok", 98, BIG)
    assert (stale.outcome, stale.left, stale.last_token) == ("fenced", 98, BIG)
    assert (again.outcome, again.left) == ("ok", 97)
    assert level == {"left": 97, "last_token": BIG}


@pytest.mark.parametrize("killed_after", [0, 1, 17, 39])
def test_an_import_resumed_from_any_checkpoint_ends_with_the_uninterrupted_checksum(
    killed_after: int,
) -> None:
    data = job.first_data()
    for row in range(killed_after):
        data = job.after_row(data, row)
    saved = dict(data)  # what the checkpoint holds when the worker dies
    for row in range(saved["next_row"], 40):
        saved = job.after_row(saved, row)
    assert saved == {"next_row": 40, "checksum": job.expected_checksum(40)}


def test_import_request_defaults_and_validation() -> None:
    assert job.ImportRequest.parse({}) == job.ImportRequest(40, 100)
    assert job.ImportRequest.parse({"rows": 5}) == job.ImportRequest(5, 100)
    for bad in ({"rows": 0}, {"rows": True}, {"row_ms": -1}, {"rows": "7"}):
        with pytest.raises(ValueError, match=r"rows|row_ms"):
            job.ImportRequest.parse(bad)
