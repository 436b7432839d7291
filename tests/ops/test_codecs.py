from __future__ import annotations

import logging

import pytest

from goscope_redis import (
    JSONSerializer,
    MsgpackSerializer,
    SerializationError,
    SignedPickleSerializer,
)
from goscope_redis.codecs.codec import MISS, Codec


@pytest.mark.parametrize("use_orjson", [True, False])
def test_json_engines_agree(use_orjson):
    codec = Codec(JSONSerializer(use_orjson=use_orjson))
    for value in [None, 1, -2, 1.5, "é", [1, "a"], {"a": {"b": None}}, True]:
        assert codec.decode("k", codec.encode("k", value)) == value
    assert Codec(JSONSerializer(use_orjson=True)).encode("k", {"a": [1]}) == Codec(
        JSONSerializer(use_orjson=False)
    ).encode("k", {"a": [1]})


@pytest.mark.parametrize("use_orjson", [True, False])
def test_json_rejects_the_same_types(use_orjson):
    import dataclasses
    import datetime

    @dataclasses.dataclass
    class D:
        x: int

    codec = Codec(JSONSerializer(use_orjson=use_orjson))
    for value in [object(), D(1), datetime.datetime.now(), {1, 2}]:
        with pytest.raises(SerializationError):
            codec.encode("k", value)


def test_pickle_requires_a_secret():
    with pytest.raises(ValueError, match="secret"):
        SignedPickleSerializer("")
    assert "hidden" in repr(SignedPickleSerializer("s3cret")) and "s3cret" not in repr(
        SignedPickleSerializer("s3cret")
    )


def test_tampered_pickle_is_a_miss_and_never_unpickled(caplog):
    codec = Codec(SignedPickleSerializer("k"))
    data = bytearray(codec.encode("key", {"a": 1}))
    data[-2] ^= 1
    with caplog.at_level(logging.WARNING, logger="goscope_redis"):
        assert codec.decode("key", bytes(data)) is MISS
    assert "key" in caplog.text


def test_forged_pickle_without_signature_is_a_miss():
    import pickle

    codec = Codec(SignedPickleSerializer("k"))
    assert codec.decode("key", pickle.dumps(["evil"])) is MISS


def test_integers_are_plain_digits_for_binary_serializers():
    for serializer in (SignedPickleSerializer("k"), MsgpackSerializer()):
        codec = Codec(serializer)
        assert codec.encode("k", 42) == b"42"
        assert codec.decode("k", b"42") == 42
        for value in [53, "5", b"5", [5], 5.0, True]:
            assert codec.decode("k", codec.encode("k", value)) == value


def test_msgpack_rejects_unserialisable():
    with pytest.raises(SerializationError, match="msgpack"):
        Codec(MsgpackSerializer()).encode("k", object())
