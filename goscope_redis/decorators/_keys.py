"""Key templates: ``key="user:{user_id}"`` formatted from a call's bound arguments."""

from __future__ import annotations

import inspect
import string
from collections.abc import Callable
from typing import Any

from goscope_redis.decorators._canonical import digest
from goscope_redis.keys import glob_escape

_SELF_NAMES = frozenset({"self", "cls"})
_SCALARS = frozenset({int, str, bool, float, bytes, type(None)})
_MEMO_SIZE = 1024


def _root_field(field: str) -> str:
    for sep in (".", "["):
        field = field.split(sep, 1)[0]
    return field


class KeyBuilder:
    """Builds the Redis user key of one call of ``fn``.

    With a template, fields are ``str.format`` fields over the bound arguments (``{user.id}``
    works). Without one, the key is the qualified name plus a stable digest of the arguments.
    """

    def __init__(self, fn: Callable[..., Any], template: str | None, exclude: tuple[str, ...] = ()):
        self.signature = inspect.signature(fn)
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.template = template
        self._exclude = frozenset(exclude)
        params = self.signature.parameters
        self._skip_first = bool(params) and next(iter(params)) in _SELF_NAMES
        self._names = tuple(params)
        # Plain positional parameters only: a call can be bound with zip() instead of inspect.
        self._simple = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params.values())
        # Default keys of scalar-only calls, memoised: hashing canonical JSON costs ~6 µs.
        self._memo: dict[tuple[Any, ...], str] = {}
        if template is not None:
            self._check_template(template, fn)

    def _check_template(self, template: str, fn: Callable[..., Any]) -> None:
        params = self.signature.parameters
        has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise ValueError(f"invalid key template {template!r}: {exc}") from None
        for field in fields:
            root = _root_field(field)
            if not root or root.isdigit():
                raise ValueError(f"key template {template!r} must name arguments, not positions")
            if root not in params and not has_var_kw:
                raise ValueError(
                    f"key template {template!r} names {root!r}, which is not a parameter of "
                    f"{fn.__qualname__}{self.signature}"
                )

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by name, defaults applied."""
        if self._simple and not kwargs and len(args) == len(self._names) and not self._exclude:
            return dict(zip(self._names, args))
        # An excluded parameter (with_lock's handle_arg) is filled in later by the decorator.
        binder = self.signature.bind_partial if self._exclude else self.signature.bind
        bound = binder(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        for param in self.signature.parameters.values():
            if param.kind is param.VAR_KEYWORD and param.name in arguments:
                arguments.update(arguments.pop(param.name))
        return arguments

    def build(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The user key for this call."""
        if self.template is not None:
            return self.template.format(**self.bind(args, kwargs))
        memo_key = self._memo_key(args, kwargs)
        if memo_key is not None:
            key = self._memo.get(memo_key)
            if key is not None:
                return key
        key = f"{self.name}:{digest(self._hashable(self.bind(args, kwargs)))}"
        if memo_key is not None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[memo_key] = key
        return key

    def _memo_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        # The type is part of the key: 1, 1.0 and True are equal and hash alike.
        values = args[1:] if self._skip_first else args
        if self._exclude or any(type(v) not in _SCALARS for v in values):
            return None
        if kwargs and any(type(v) not in _SCALARS for v in kwargs.values()):
            return None
        return (
            tuple((type(v), v) for v in values),
            tuple(sorted((k, type(v), v) for k, v in kwargs.items())) if kwargs else (),
        )

    def _hashable(self, arguments: dict[str, Any]) -> dict[str, Any]:
        names = list(self.signature.parameters)
        drop = set(self._exclude)
        if self._skip_first:
            drop.add(names[0])
        return {k: v for k, v in arguments.items() if k not in drop}

    def glob(self) -> str:
        """A glob matching every key this builder can produce (for ``invalidate_all``)."""
        if self.template is None:
            return glob_escape(self.name) + ":*"
        parts = []
        for literal, field, _, _ in string.Formatter().parse(self.template):
            parts.append(glob_escape(literal))
            if field is not None:
                parts.append("*")
        return "".join(parts)

    def fingerprint(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """A stable digest of the call's arguments (for idempotency mismatch checks)."""
        return digest(self._hashable(self.bind(args, kwargs)))
