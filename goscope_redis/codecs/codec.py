"""The value codec: a serializer plus the policies every stored value shares."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, NoReturn, cast

from goscope_redis.codecs.base import InvalidSignature, Serializer
from goscope_redis.codecs.json import JSONSerializer
from goscope_redis.codecs.pickle import SignedPickleSerializer
from goscope_redis.errors import SerializationError

logger = logging.getLogger("goscope_redis")

MISS: Final = object()
"""Returned by :meth:`Codec.decode` for a value that must read as absent (bad signature)."""

_INT = re.compile(rb"-?[0-9]+\Z")
# 0xC1 is the one byte msgpack never emits, and no pickle or JSON text starts with it: a safe
# marker for "this payload only looks like an integer".
_MARK = b"\xc1"
_NUMERIC: Final = frozenset({b"-", _MARK, *(bytes([c]) for c in b"0123456789")})
"""First bytes of a payload that may be an integer or marked: only these need the regex."""


class Codec:
    """Encodes values for storage and decodes them back.

    With a non-JSON serializer, plain ``int`` values are stored as ASCII digits so that Redis
    ``INCRBY`` works on them atomically (as in django-redis). Any other payload that happens to
    look like digits is marked, so decoding stays unambiguous.
    """

    __slots__ = ("_json", "_signed", "max_value_bytes", "serializer")

    def __init__(self, serializer: Serializer | None = None, max_value_bytes: int | None = None):
        self.serializer: Serializer = serializer if serializer is not None else JSONSerializer()
        self._json = isinstance(self.serializer, JSONSerializer)
        # Exactly ours (a subclass may override dumps): its payloads start with b"gsp1", never
        # look like digits, and it decodes many values in one loop.
        self._signed = type(self.serializer) is SignedPickleSerializer
        if max_value_bytes is not None and (
            isinstance(max_value_bytes, bool) or int(max_value_bytes) <= 0
        ):
            raise ValueError(f"max_value_bytes must be a positive int, got {max_value_bytes!r}")
        self.max_value_bytes = max_value_bytes

    def encode(self, key: str, value: Any) -> bytes:
        """Serialise ``value`` for ``key``; raise SerializationError (nothing is written)."""
        try:
            if self._json:
                data = self.serializer.dumps(value)
            elif value.__class__ is int:
                data = str(value).encode()
            else:
                data = self.serializer.dumps(value)
                if not self._signed and _INT.match(data):
                    data = _MARK + data
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            self._fail(key, value, f"{self.serializer.name}: {exc}", exc)
        if self.max_value_bytes is not None and len(data) > self.max_value_bytes:
            self._fail(
                key, value, f"{len(data)} bytes exceeds max_value_bytes={self.max_value_bytes}"
            )
        return data

    def _fail(
        self, key: str, value: Any, reason: str, cause: BaseException | None = None
    ) -> NoReturn:
        """Raise the error for an unstorable value (integrations override the error type)."""
        raise SerializationError(key, type(value), reason) from cause

    def decode(self, key: str, data: bytes) -> Any:
        """Deserialise stored bytes; a value failing its signature check returns :data:`MISS`."""
        if self._json:
            return self.serializer.loads(data)
        if data.__class__ is not bytes:
            if isinstance(data, str):
                data = data.encode()
            elif isinstance(data, bytearray | memoryview):
                data = bytes(data)  # hashable, for the test below
        if data[:1] in _NUMERIC:  # the regexes cost more than this test: skip them when we can
            if _INT.match(data):
                return int(data)
            if data[:1] == _MARK and _INT.match(data, 1):
                data = data[1:]
        try:
            return self.serializer.loads(data)
        except InvalidSignature as exc:
            _warn(key, exc)
            return MISS

    def decode_many(
        self,
        keys: Iterable[Any],
        datas: Sequence[Any],
        label: Callable[[Any], str] | None = None,
    ) -> dict[Any, Any]:
        """``{key: value}`` for each stored item of ``datas`` (``None``: absent), as
        :meth:`decode` reads it; misses and values failing their signature are left out.

        ``label(key)`` names the key in the warning about a bad signature (default: ``key``).
        """
        out: dict[Any, Any] = {}
        if self._json:
            serializer = self.serializer
            loads = (
                serializer.engine_loads if type(serializer) is JSONSerializer else serializer.loads
            )
            for key, data in zip(keys, datas):
                if data is not None:
                    out[key] = loads(data)
            return out
        if not self._signed:
            for key, data in zip(keys, datas):
                if data is not None:
                    value = self.decode(key if label is None else label(key), data)
                    if value is not MISS:
                        out[key] = value
            return out

        def otherwise(key: Any, data: Any) -> None:
            # Integers (digits) and text replies are not signed pickles: the general path reads
            # them, and logs the genuinely bad ones.
            value = self.decode(key if label is None else label(key), data)
            if value is not MISS:
                out[key] = value

        cast(SignedPickleSerializer, self.serializer).loads_into(out, keys, datas, otherwise)
        return out


def _warn(key: str, exc: InvalidSignature) -> None:
    logger.warning(
        "goscope_redis: value under key %r failed verification (%s); treated as a miss. "
        "Check that every writer uses the same secret.",
        key,
        exc,
    )
