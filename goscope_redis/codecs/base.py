"""The serializer protocol."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class InvalidSignature(Exception):
    """Raised by a signing serializer when stored bytes fail verification."""


@runtime_checkable
class Serializer(Protocol):
    """Turns values into bytes and back.

    ``dumps`` raises ``TypeError``/``ValueError`` for values it cannot represent. ``loads`` may
    raise :class:`InvalidSignature`, which readers treat as a miss.
    """

    name: str

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode bytes produced by :meth:`dumps`."""
        ...
