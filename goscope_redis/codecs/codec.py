"""The value codec: a serializer plus the policies every stored value shares."""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from goscope_redis.codecs.base import InvalidSignature, Serializer
from goscope_redis.codecs.json import JSONSerializer
from goscope_redis.errors import SerializationError

logger = logging.getLogger("goscope_redis")

MISS: Final = object()
"""Returned by :meth:`Codec.decode` for a value that must read as absent (bad signature)."""

_INT = re.compile(rb"-?[0-9]+\Z")
# 0xC1 is the one byte msgpack never emits, and no pickle or JSON text starts with it: a safe
# marker for "this payload only looks like an integer".
_MARK = b"\xc1"


class Codec:
    """Encodes values for storage and decodes them back.

    With a non-JSON serializer, plain ``int`` values are stored as ASCII digits so that Redis
    ``INCRBY`` works on them atomically (as in django-redis). Any other payload that happens to
    look like digits is marked, so decoding stays unambiguous.
    """

    __slots__ = ("_json", "max_value_bytes", "serializer")

    def __init__(self, serializer: Serializer | None = None, max_value_bytes: int | None = None):
        self.serializer: Serializer = serializer if serializer is not None else JSONSerializer()
        self._json = isinstance(self.serializer, JSONSerializer)
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
                if _INT.match(data):
                    data = _MARK + data
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise SerializationError(key, type(value), f"{self.serializer.name}: {exc}") from exc
        if self.max_value_bytes is not None and len(data) > self.max_value_bytes:
            raise SerializationError(
                key,
                type(value),
                f"{len(data)} bytes exceeds max_value_bytes={self.max_value_bytes}",
            )
        return data

    def decode(self, key: str, data: bytes) -> Any:
        """Deserialise stored bytes; a value failing its signature check returns :data:`MISS`."""
        if self._json:
            return self.serializer.loads(data)
        if isinstance(data, str):
            data = data.encode()
        if _INT.match(data):
            return int(data)
        if data[:1] == _MARK and _INT.match(data, 1):
            data = data[1:]
        try:
            return self.serializer.loads(data)
        except InvalidSignature as exc:
            logger.warning(
                "goscope_redis: value under key %r failed verification (%s); treated as a miss. "
                "Check that every writer uses the same secret.",
                key,
                exc,
            )
            return MISS
