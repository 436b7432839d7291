"""JSON, the default serializer: safe to load from an untrusted store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:  # orjson is several times faster on small values; the output is the same JSON.
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _orjson = None  # type: ignore[assignment]


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__qualname__} is not JSON serializable")


class JSONSerializer:
    """JSON via orjson when installed, else the standard library.

    Both engines accept exactly the same values: orjson's native dataclass and datetime support
    is switched off, so what round-trips never depends on which one is installed.
    """

    name = "json"

    def __init__(self, *, use_orjson: bool | None = None) -> None:
        self._orjson = _orjson is not None if use_orjson is None else use_orjson
        if self._orjson and _orjson is None:
            raise RuntimeError("orjson is not installed; pip install 'goscope-redis[fast]'")

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` as compact UTF-8 JSON."""
        if self._orjson:
            return _orjson.dumps(value, default=_reject, option=_ORJSON_OPTS)
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()

    def loads(self, data: bytes) -> Any:
        """Decode JSON bytes."""
        if self._orjson:
            return _orjson.loads(data)
        return json.loads(data)

    @property
    def engine_loads(self) -> Callable[[bytes], Any]:
        """The engine's own ``loads`` (what :meth:`loads` calls), for decoding many values
        without a method call each."""
        return _orjson.loads if self._orjson else json.loads


_ORJSON_OPTS = (
    0 if _orjson is None else (_orjson.OPT_PASSTHROUGH_DATACLASS | _orjson.OPT_PASSTHROUGH_DATETIME)
)
