"""CLI fixtures: a seeded adapter on the real test server and an in-process CLI runner."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from goscope_redis import RedisAdapter
from goscope_redis.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def seeded(redis_server: Any, prefix: str) -> Iterator[RedisAdapter]:
    """The adapter tests write through; the CLI then reads what it wrote."""
    adapter = RedisAdapter(redis.Redis(port=redis_server.port), prefix)
    yield adapter
    adapter.client.close()


@pytest.fixture
def other_adapter(redis_server: Any, prefix: str) -> Iterator[RedisAdapter]:
    """An adapter under a longer prefix that starts with ours: the CLI must never see its keys."""
    adapter = RedisAdapter(redis.Redis(port=redis_server.port), prefix + "cache:")
    yield adapter
    adapter.client.close()


@pytest.fixture
def cli(redis_server: Any, prefix: str, capsys: Any, monkeypatch: Any) -> Any:
    """Run ``goscope-redis --url <test server> --prefix <test prefix> ARGS`` in-process."""

    def run(*args: str, stdin: str | None = None, url: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(["--url", url or redis_server.url, "--prefix", prefix, *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def table(out: str) -> list[list[str]]:
    """A printed table as rows of cells (cells are separated by two or more spaces)."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]
