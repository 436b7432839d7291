"""The ``SERIALIZER`` and ``COMPRESSOR`` options of the cache backend.

``SERIALIZER`` is ``"pickle"`` (the default: pickle signed with HMAC-SHA256 under a key derived
from ``SECRET_KEY``, so Django objects work and a tampered value reads as a miss instead of
running code), ``"json"``, ``"msgpack"``, a dotted path to a class implementing
:class:`goscope_redis.Serializer`, or an instance of one. django-redis's serializer paths are
accepted too and mapped to ours.

``COMPRESSOR`` is ``"zlib"``, ``"lzma"`` or ``"zstd"`` (when ``compression.zstd`` or
``zstandard`` is importable), or django-redis's equivalent path. Compression wraps the
serializer: payloads of at least ``MIN_COMPRESS_LEN`` bytes are compressed, and every payload
carries a one-byte header naming its compressor, so changing the option never makes old
values unreadable.
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from goscope_redis import JSONSerializer, MsgpackSerializer, Serializer, SignedPickleSerializer
from goscope_redis.codecs.base import InvalidSignature

DEFAULT_MIN_COMPRESS_LEN: Final = 1024
"""Smaller payloads are stored as they are: compressing them costs more than it saves."""

_SIGNING_SALT: Final = "goscope_redis_django.cache.SignedPickleSerializer"

DJANGO_REDIS_SERIALIZERS: Final = {
    "django_redis.serializers.pickle.PickleSerializer": "pickle",
    "django_redis.serializers.json.JSONSerializer": "json",
    "django_redis.serializers.msgpack.MSGPackSerializer": "msgpack",
    "django.core.cache.backends.redis.RedisSerializer": "pickle",
}
DJANGO_REDIS_COMPRESSORS: Final = {
    "django_redis.compressors.identity.IdentityCompressor": None,
    "django_redis.compressors.zlib.ZlibCompressor": "zlib",
    "django_redis.compressors.lzma.LzmaCompressor": "lzma",
    "django_redis.compressors.zstd.ZStdCompressor": "zstd",
}


def signing_key(secret: str | bytes) -> bytes:
    """The pickle HMAC key: derived from ``secret`` so ``SECRET_KEY`` itself is never reused."""
    return bytes(
        salted_hmac(_SIGNING_SALT, "cache-values", secret=secret, algorithm="sha256").digest()
    )


def make_serializer(spec: Any, secret: str | bytes | None, pickle_protocol: int | None) -> Any:
    """Resolve the ``SERIALIZER`` option (see the module docstring)."""
    if spec is None:
        spec = "pickle"
    if isinstance(spec, str):
        spec = DJANGO_REDIS_SERIALIZERS.get(spec, spec)
        if spec == "pickle":
            if not secret:
                raise ImproperlyConfigured(
                    "the cache's pickle serializer needs a secret: set SECRET_KEY (or "
                    "OPTIONS['SECRET']), or choose OPTIONS['SERIALIZER'] = 'json'"
                )
            kwargs = {} if pickle_protocol is None else {"protocol": int(pickle_protocol)}
            return SignedPickleSerializer(signing_key(secret), **kwargs)
        if spec == "json":
            return JSONSerializer()
        if spec == "msgpack":
            return MsgpackSerializer()
        spec = _import(spec, "SERIALIZER")
    if isinstance(spec, type):
        spec = spec()
    if not isinstance(spec, Serializer):
        raise ImproperlyConfigured(
            f"OPTIONS['SERIALIZER'] = {spec!r} is not a serializer: it needs a `name` and "
            "dumps(value) -> bytes / loads(bytes) -> value"
        )
    return spec


def _import(path: str, option: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"OPTIONS[{option!r}] = {path!r} cannot be imported: {exc}"
        ) from exc


@dataclass(frozen=True, slots=True)
class Compressor:
    """One compression algorithm and its one-byte header."""

    name: str
    header: bytes
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]


def _zstd() -> Compressor | None:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+

        return Compressor("zstd", b"S", zstd.compress, zstd.decompress)
    except ImportError:
        pass
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Compressor(
        "zstd",
        b"S",
        zstandard.ZstdCompressor().compress,
        zstandard.ZstdDecompressor().decompress,
    )


def _compressors() -> dict[bytes, Compressor]:
    found = [
        Compressor("zlib", b"Z", zlib.compress, zlib.decompress),
        Compressor("lzma", b"L", lzma.compress, lzma.decompress),
    ]
    zstd = _zstd()
    if zstd is not None:
        found.append(zstd)
    return {c.header: c for c in found}


_BY_HEADER: Final = _compressors()
_RAW: Final = b"\x00"


def make_compressor(spec: Any) -> Compressor | None:
    """Resolve the ``COMPRESSOR`` option: ``None``, a name, or django-redis's class path."""
    if spec is None:
        return None
    name = DJANGO_REDIS_COMPRESSORS.get(spec, spec)
    if name is None:
        return None
    for compressor in _BY_HEADER.values():
        if compressor.name == name:
            return compressor
    hint = " (pip install zstandard)" if name == "zstd" else ""
    names = sorted(c.name for c in _BY_HEADER.values())
    raise ImproperlyConfigured(
        f"OPTIONS['COMPRESSOR'] = {spec!r} is not available{hint}; choose one of {names}"
    )


class CompressingSerializer:
    """Wraps a serializer: compresses payloads of at least ``min_length`` bytes."""

    def __init__(self, inner: Serializer, compressor: Compressor, min_length: int) -> None:
        if isinstance(min_length, bool) or int(min_length) < 0:
            raise ImproperlyConfigured(f"MIN_COMPRESS_LEN must be >= 0, got {min_length!r}")
        self.inner = inner
        self.compressor = compressor
        self.min_length = int(min_length)
        self.name = f"{inner.name}+{compressor.name}"

    def __repr__(self) -> str:
        return f"CompressingSerializer({self.inner!r}, {self.compressor.name!r})"

    def dumps(self, value: Any) -> bytes:
        """Serialise, then compress when large enough; the header names the compressor."""
        data = self.inner.dumps(value)
        if len(data) >= self.min_length:
            packed = self.compressor.compress(data)
            if len(packed) < len(data):
                return self.compressor.header + packed
        return _RAW + data

    def loads(self, data: bytes) -> Any:
        """Decompress with the compressor its header names, then deserialise."""
        header, body = data[:1], data[1:]
        if header == _RAW:
            return self.inner.loads(body)
        compressor = _BY_HEADER.get(header)
        if compressor is None:
            # Written before COMPRESSOR was set: no header (no JSON, signed pickle or msgpack
            # non-integer payload starts with one of the header bytes).
            return self.inner.loads(data)
        try:
            plain = compressor.decompress(body)
        except Exception as exc:  # zlib.error, lzma.LZMAError, zstd errors: all unrelated types
            raise InvalidSignature(f"value does not decompress with {compressor.name}") from exc
        return self.inner.loads(plain)
