"""The key layout. This is the only module that builds Redis keys.

Every key has the form ``<prefix><kind>:{<user key>}[:<suffix>]``:

* The braces are the Redis Cluster hash tag, so all keys of one logical item (a lock and its
  fence counter, a task's checkpoints and their index) share a slot and multi-key Lua works.
* The prefix may not contain braces, and ``}`` and ``%`` inside user keys are percent-encoded.
  So the first ``{`` ends the prefix, the hash tag is never empty or cut short, and the encoding
  is injective over (prefix, key) pairs: ``clear()`` under ``app:`` never matches ``app:cache:``.
* For ``SCAN MATCH`` the prefix's glob characters are escaped; a user pattern applies only inside
  the braces.
"""

from __future__ import annotations

from typing import Final

KINDS: Final = ("lock", "cache", "circuit", "checkpoint", "idempotency")
_GLOB_CHARS: Final = frozenset("*?[]\\")


def _validate_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"keys must be str, not {type(key).__name__} ({key!r})")
    if not key:
        raise ValueError("key must be a non-empty string")
    return key


def encode_key(key: str) -> str:
    """Percent-encode the two characters that could break the hash tag (``%`` and ``}``)."""
    if "%" in key or "}" in key:
        return key.replace("%", "%25").replace("}", "%7D")
    return key


def decode_key(encoded: str) -> str:
    """Invert :func:`encode_key`."""
    if "%" in encoded:
        return encoded.replace("%7D", "}").replace("%25", "%")
    return encoded


def glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters so ``text`` matches only itself."""
    return "".join("\\" + ch if ch in _GLOB_CHARS else ch for ch in text)


class KeySpace:
    """Builds the keys of one kind (``lock``, ``cache``...) under one prefix."""

    __slots__ = ("_head", "kind", "prefix")

    def __init__(self, prefix: str, kind: str) -> None:
        validate_prefix(prefix)
        if kind not in KINDS:
            raise ValueError(f"unknown key kind {kind!r}")
        self.prefix = prefix
        self.kind = kind
        # Precomputed once: building a key is then a single concatenation on the hot path.
        self._head = f"{prefix}{kind}:{{"

    def key(self, key: str, suffix: str | None = None) -> str:
        """The Redis key of ``key`` (and of its ``suffix`` companion, if given)."""
        if key.__class__ is not str or not key:
            _validate_key(key)
        tail = "}" if suffix is None else "}:" + suffix
        if "%" in key or "}" in key:
            return self._head + encode_key(key) + tail
        return self._head + key + tail

    def family(self, key: str, suffixes: tuple[str | None, ...]) -> tuple[str, ...]:
        """The keys of ``key`` with each suffix (``None``: the main key), validated and encoded
        once for all of them (a lock's script takes four)."""
        main = self.key(key)
        return tuple(main if suffix is None else main + ":" + suffix for suffix in suffixes)

    def match(self, pattern: str | None = None) -> str:
        """A ``SCAN MATCH`` pattern for this kind's main keys, with the user glob inside braces."""
        inner = "*" if pattern is None else encode_key(pattern)
        return glob_escape(self._head) + inner + "}"

    def match_all(self) -> str:
        """A ``SCAN MATCH`` pattern for every key of this kind, companions included."""
        return glob_escape(self._head) + "*"

    def user_key(self, redis_key: str | bytes) -> str:
        """Recover the user key from a main Redis key of this kind."""
        text = redis_key.decode() if isinstance(redis_key, bytes) else redis_key
        if not text.startswith(self._head) or not text.endswith("}"):
            raise ValueError(f"{text!r} is not a {self.kind} key under prefix {self.prefix!r}")
        return decode_key(text[len(self._head) : -1])


def validate_prefix(prefix: object) -> str:
    """A prefix is any ``str`` without braces (braces would break the hash tag encoding)."""
    if not isinstance(prefix, str):
        raise TypeError(f"key_prefix must be str, not {type(prefix).__name__}")
    if "{" in prefix or "}" in prefix:
        raise ValueError(
            f"key_prefix {prefix!r} contains a brace; braces are reserved for the Redis Cluster "
            "hash tag. Use ':' or '.' as separators instead."
        )
    return prefix


def validate_key(key: object) -> str:
    """Raise ``TypeError``/``ValueError`` unless ``key`` is a non-empty ``str``."""
    return _validate_key(key)
