"""Validation of durations. Every duration in the core is in milliseconds."""

from __future__ import annotations

from datetime import timedelta

Duration = int | float | timedelta
"""An ``int`` of milliseconds (an integral ``float`` is accepted) or a ``timedelta``."""


def to_ms(value: object, name: str = "ttl") -> int:
    """Return ``value`` as a positive whole number of milliseconds, or raise ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be milliseconds (int) or a timedelta, not bool {value!r}")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number of milliseconds, got {value!r}")
        ms = int(value)
    elif isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        if micros % 1000:
            raise ValueError(f"{name} must be a whole number of milliseconds, got {value!r}")
        ms = micros // 1000
    else:
        raise ValueError(
            f"{name} must be milliseconds (int) or a timedelta, not {type(value).__name__}"
        )
    if ms <= 0:
        raise ValueError(f"{name} must be positive, got {ms} ms")
    return ms


def optional_ms(value: object, name: str = "ttl") -> int | None:
    """Like :func:`to_ms`, but ``None`` passes through (meaning "no expiry")."""
    return None if value is None else to_ms(value, name)


def wait_ms(value: object) -> int | None:
    """Validate ``wait``: ``None`` waits forever, ``0`` fails at once, else positive ms."""
    if value is None:
        return None
    if not isinstance(value, bool) and value == 0 and isinstance(value, int | float | timedelta):
        return 0
    return to_ms(value, "wait")
