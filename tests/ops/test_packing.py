"""The C command packer sends exactly what redis-py's own packer would, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer

from goscope_redis import _packing
from goscope_redis._packing import packed
from goscope_redis.effects import Call
from goscope_redis.runner import run_sync

pytest.importorskip("hiredis")


class _Connection:
    def __init__(self, encoding: str = "utf-8", errors: str = "strict") -> None:
        self.encoder = Encoder(encoding, errors, False)


def _redis_py(args: tuple[Any, ...]) -> bytes:
    encoder = Encoder("utf-8", "strict", False)
    return b"".join(PythonRespSerializer(6000, encoder.encode).pack(*args))


@pytest.mark.parametrize(
    "args",
    [
        ("GET", "cache:k"),
        ("SET", "k", b"\x00\xff\r\n", "PX", 1500),
        ("EVALSHA", "a" * 40, 2, "lock:k", "fence:k", "owner-1", 10_000, "0"),
        ("SET", "clé-é", "värde", "PX", 2**62),
        ("INCRBY", "n", -7),
        ("ZADD", "z", 1.5, "m", 1e20, "n", float("inf"), "o"),
        ("SET", "big", b"x" * 100_000),
        ("SET", "view", memoryview(b"v\r\n")),
    ],
)
def test_same_bytes_as_redis_py(args: tuple[Any, ...]) -> None:
    assert packed(_Connection(), args) == [_redis_py(args)]


@pytest.mark.parametrize(
    ("connection", "args"),
    [
        (_Connection("latin-1"), ("SET", "k", "é")),  # redis-py would encode differently
        (_Connection("utf-8", "replace"), ("SET", "k", "v")),
        (_Connection(), ("SET", "k", True)),  # redis-py refuses a bool, and says why
        (_Connection(), ("CONFIG GET", "maxmemory")),  # redis-py splits the name
        (_Connection(), (b"CONFIG GET", b"maxmemory")),
        (_Connection(), ("SET", "k", "\ud800")),  # not encodable: redis-py raises its error
    ],
)
def test_steps_aside_where_redis_py_would_pack_differently(
    connection: _Connection, args: tuple[Any, ...]
) -> None:
    assert packed(connection, args) is None


def test_steps_aside_without_hiredis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_packing, "_pack_command", None)
    assert packed(_Connection(), ("GET", "k")) is None


def test_what_it_cannot_pack_still_gets_redis_pys_error(sync_client: redis.Redis) -> None:
    def op() -> Any:
        return (yield Call(("SET", "goscope-packing-test", True)))

    with pytest.raises(redis.DataError):
        run_sync(op(), sync_client)
    assert sync_client.ping()  # and the pooled connection is still in step
