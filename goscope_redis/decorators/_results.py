"""Turn results into storable values and back, for ``result_type=`` (dataclasses, pydantic)."""

from __future__ import annotations

import dataclasses
from typing import Any


def to_storable(value: Any, result_type: type | None) -> Any:
    """A JSON-friendly form of ``value`` when it is an instance of ``result_type``."""
    if result_type is None or not isinstance(value, result_type):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"result_type {result_type.__qualname__} is neither a dataclass nor pydantic")


def from_storable(value: Any, result_type: type | None) -> Any:
    """Rebuild a ``result_type`` instance from its stored form."""
    if result_type is None or not isinstance(value, dict):
        return value
    validate = getattr(result_type, "model_validate", None)
    if callable(validate):
        return validate(value)
    return result_type(**value)
