"""Reading and validating the Idempotency-Key header; scoping keys per principal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from goscope_redis.http_idempotency._constants import DEFAULT_HEADER, MAX_KEY_LENGTH
from goscope_redis.http_idempotency._problems import Problem, invalid_key, missing_key


def read_key(
    values: Sequence[str], *, header: str = DEFAULT_HEADER, required: bool = False
) -> str | Problem | None:
    """Validate the request's ``header`` values (one entry per header line).

    Returns the key, ``None`` when absent and not ``required``, or a 400 :class:`Problem`: when
    missing but required, or when malformed (several headers, empty, over 255 characters,
    control characters, a broken quoted string). A structured-field string (``"abc"``, as the
    IETF draft writes it) is unquoted, so ``"abc"`` and ``abc`` are the same key. Frameworks that
    fold repeated headers into one comma-joined value (Django's ``META``) pass that one value.
    """
    if not values:
        return missing_key(header) if required else None
    if len(values) > 1:
        return invalid_key(f"Send exactly one {header} header, not {len(values)}.", header)
    key = values[0].strip(" \t")
    if key.startswith('"'):
        unquoted = _unquote(key)
        if unquoted is None:
            return invalid_key(f"{header} is a malformed quoted string.", header)
        key = unquoted
    reason = _key_fault(key)
    return key if reason is None else invalid_key(f"{header} {reason}.", header)


def _key_fault(key: str) -> str | None:
    if not key:
        return "is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters"
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        return "contains control characters"
    return None


def _unquote(text: str) -> str | None:
    """The content of an RFC 8941 string (``\\"`` and ``\\\\`` escapes), or None if malformed."""
    if len(text) < 2 or not text.endswith('"'):
        return None
    out: list[str] = []
    chars = iter(text[1:-1])
    for ch in chars:
        if ch == "\\":
            ch = next(chars, "")
            if ch not in ('"', "\\"):
                return None
        elif ch == '"':
            return None
        out.append(ch)
    return "".join(out)


def scoped_key(key: str, principal: str | None = None) -> str:
    """The idempotency record's key: ``key`` scoped to ``principal`` under ``http:``.

    ``http:-:<key>`` without a principal, ``http:<len>:<principal>:<key>`` with one. The length
    makes it injective: no (principal, key) pair can produce another pair's record key, so two
    users sending the same key never see each other's responses.
    """
    if principal is None:
        return f"http:-:{key}"
    return f"http:{len(principal)}:{principal}:{key}"
