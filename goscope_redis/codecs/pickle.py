"""Signed pickle: opt-in, HMAC-SHA256 authenticated.

Unpickling attacker-controlled bytes runs code, and anyone who can write to Redis controls the
bytes. So every payload carries an HMAC-SHA256 tag over a fixed header and the pickle, keyed with
a secret that never touches Redis. Bytes that fail verification are never unpickled. The digest is
fixed: the stored value cannot choose a weaker one.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
from typing import Any

from goscope_redis.codecs.base import InvalidSignature

_MAGIC = b"gsp1"
_TAG = 32


class SignedPickleSerializer:
    """Pickle with an HMAC-SHA256 signature; ``secret`` is required."""

    name = "pickle"

    def __init__(self, secret: str | bytes, *, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        if not secret:
            raise ValueError(
                "SignedPickleSerializer needs a non-empty secret (for Django, SECRET_KEY); "
                "without one a writer to Redis could run code in this process"
            )
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        # Keyed once; each call copies the state (cheaper than re-keying HMAC every time).
        self._mac = hmac.new(key, _MAGIC, hashlib.sha256)
        self._protocol = protocol

    def __repr__(self) -> str:
        return "SignedPickleSerializer(secret=<hidden>)"

    def dumps(self, value: Any) -> bytes:
        """Pickle ``value`` and prepend the magic header and its tag."""
        try:
            payload = pickle.dumps(value, protocol=self._protocol)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(str(exc)) from exc
        return _MAGIC + self._tag(payload) + payload

    def _tag(self, payload: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(payload)
        return mac.digest()

    def loads(self, data: bytes) -> Any:
        """Verify the tag in constant time, then unpickle; raise InvalidSignature otherwise."""
        if len(data) < len(_MAGIC) + _TAG or not data.startswith(_MAGIC):
            raise InvalidSignature("value is not a signed pickle")
        tag = data[len(_MAGIC) : len(_MAGIC) + _TAG]
        payload = data[len(_MAGIC) + _TAG :]
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise InvalidSignature("signature mismatch")
        return pickle.loads(payload)  # authenticated above: only our own writes get here
