"""Canonical, stable serialisation of call arguments for default decorator keys.

The digest must be identical in every process and every run, so it never uses ``hash()`` or
``repr()`` of arbitrary objects (which embeds memory addresses).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import json
import uuid
from typing import Any


def _canon(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"__float__": repr(value)}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": sorted(([_canon(k), _canon(v)] for k, v in value.items()), key=repr)}
    if isinstance(value, set | frozenset):
        return {"__set__": sorted((_canon(v) for v in value), key=repr)}
    if isinstance(value, enum.Enum):
        return {"__enum__": f"{type(value).__qualname__}.{value.name}"}
    if isinstance(value, datetime.date | datetime.time):
        return {"__dt__": value.isoformat()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return {"__str__": str(value)}
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__dc__": type(value).__qualname__, "f": _canon(dataclasses.asdict(value))}
    dump = getattr(value, "model_dump", None)  # pydantic v2 models
    if callable(dump):
        return {"__model__": type(value).__qualname__, "f": _canon(dump(mode="json"))}
    raise TypeError(
        f"cannot build a stable cache key from a {type(value).__qualname__} argument; "
        "pass key='...{arg}...' to the decorator"
    )


def digest(arguments: dict[str, Any]) -> str:
    """A stable hex digest of named arguments."""
    text = json.dumps(_canon(arguments), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
