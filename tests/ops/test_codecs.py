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


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda good: b"", "not a signed pickle"),
        (lambda good: good[:35], "not a signed pickle"),  # one byte short of header + tag
        (lambda good: b"gsp2" + good[4:], "not a signed pickle"),
        (lambda good: good[:4] + bytes(32) + good[36:], "signature mismatch"),
        (lambda good: good[:-2] + bytes([good[-2] ^ 1]) + good[-1:], "signature mismatch"),
        (lambda good: good[:36], "signature mismatch"),  # the tag of another (the empty) pickle
    ],
)
def test_signed_loads_refuses_anything_but_its_own_writes(mangle, reason):
    from goscope_redis.codecs.base import InvalidSignature

    serializer = SignedPickleSerializer("k")
    good = serializer.dumps({"a": 1})
    assert serializer.loads(good) == {"a": 1}
    with pytest.raises(InvalidSignature, match=reason):
        serializer.loads(mangle(good))


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


# --- signed pickle: the HMAC, the stored format, decoding many values ------------------------


@pytest.mark.parametrize("key", [b"k", b"s" * 32, b"x" * 64, b"y" * 65, bytes(range(200))])
def test_signed_pickle_tag_is_standard_hmac_sha256_over_header_and_pickle(key):
    import hashlib
    import hmac
    import pickle

    payload = pickle.dumps({"a": [1, 2]}, protocol=pickle.HIGHEST_PROTOCOL)
    expected = hmac.new(key, b"gsp1" + payload, hashlib.sha256).digest()
    serializer = SignedPickleSerializer(key)
    stored = serializer.dumps({"a": [1, 2]})
    assert stored == b"gsp1" + expected + payload  # the stored format is unchanged
    assert serializer.loads(b"gsp1" + expected + payload) == {"a": [1, 2]}


def _old_format(secret: bytes, value):
    """A value as the previous implementation wrote it (hmac.HMAC keyed once, then copied)."""
    import hashlib
    import hmac
    import pickle

    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac.new(secret, b"gsp1", hashlib.sha256).copy()
    mac.update(payload)
    return b"gsp1" + mac.digest() + payload


def test_values_written_by_the_previous_implementation_still_read():
    codec = Codec(SignedPickleSerializer(b"secret"))
    stored = _old_format(b"secret", {"x": (1, "é")})
    assert codec.decode("k", stored) == {"x": (1, "é")}
    assert codec.decode_many(["k"], [stored]) == {"k": {"x": (1, "é")}}


class _Boom:
    def __reduce__(self):
        return (_EXPLODED.append, ("ran",))


_EXPLODED: list = []


def _decode_each(codec, keys, datas):
    out = {}
    for key, data in zip(keys, datas):
        if data is not None:
            value = codec.decode(key, data)
            if value is not MISS:
                out[key] = value
    return out


def test_decode_many_reads_every_kind_of_stored_value_like_decode(caplog):
    import pickle

    _EXPLODED.clear()
    codec = Codec(SignedPickleSerializer("k"))
    good = codec.encode("g", {"a": 1})
    tampered = bytearray(good)
    tampered[-2] ^= 1
    forged = good[:36] + pickle.dumps(_Boom())  # a valid header, someone else's payload
    items = {
        "none": None,
        "good": good,
        "int": codec.encode("i", 42),
        "negative": b"-7",
        "tampered": bytes(tampered),
        "forged": forged,
        "unsigned": pickle.dumps(_Boom()),
        "short": b"gsp1",
        "empty": b"",
        "text": good.decode("latin-1"),  # a str reply is re-encoded as UTF-8: not ours any more
        "other_none": pickle.dumps(None),
        "stored_none": codec.encode("n", None),
    }
    keys, datas = list(items), list(items.values())
    with caplog.at_level(logging.WARNING, logger="goscope_redis"):
        got = codec.decode_many(keys, datas, label=lambda k: f"site:1:{k}")
    assert got == _decode_each(codec, keys, datas)
    assert list(got) == ["good", "int", "negative", "stored_none"]  # in the order of the keys
    assert got["good"] == {"a": 1} and got["int"] == 42 and got["stored_none"] is None
    assert _EXPLODED == []  # nothing unverified was ever unpickled
    assert "'site:1:tampered'" in caplog.text and "'site:1:forged'" in caplog.text


def test_decode_many_of_a_marked_digit_payload_and_other_serializers():
    for serializer in (JSONSerializer(), JSONSerializer(use_orjson=False), MsgpackSerializer()):
        codec = Codec(serializer)
        values = {"a": "5", "b": [1, "x"], "c": 3, "d": None}
        datas = [codec.encode(k, v) for k, v in values.items()] + [None]
        assert codec.decode_many([*values, "missing"], datas) == values


def test_integrations_choose_the_error_raised_for_unstorable_values():
    class Custom(SerializationError):
        pass

    class MyCodec(Codec):
        def _fail(self, key, value, reason, cause=None):
            raise Custom(key, type(value), reason) from cause

    with pytest.raises(Custom, match="'k'"):
        MyCodec(SignedPickleSerializer("s")).encode("k", lambda: 1)
    with pytest.raises(Custom, match="max_value_bytes"):
        MyCodec(JSONSerializer(), max_value_bytes=3).encode("k", "long text")
