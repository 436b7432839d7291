"""msgpack, optional (``pip install 'goscope-redis[msgpack]'``)."""

from __future__ import annotations

from typing import Any


class MsgpackSerializer:
    """Compact binary encoding of JSON-like values (plus bytes)."""

    name = "msgpack"

    def __init__(self) -> None:
        try:
            import msgpack
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "msgpack is not installed; pip install 'goscope-redis[msgpack]'"
            ) from exc
        self._msgpack = msgpack

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` with msgpack."""
        try:
            return bytes(self._msgpack.packb(value, use_bin_type=True))
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(str(exc)) from exc

    def loads(self, data: bytes) -> Any:
        """Decode msgpack bytes."""
        return self._msgpack.unpackb(data, raw=False)
