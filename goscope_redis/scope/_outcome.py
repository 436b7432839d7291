"""How a scope turns what went wrong inside it into the one exception it raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn


def collapse(error: BaseException) -> BaseException:
    """Unwrap exception groups that hold a single exception.

    One failure is raised as itself (``except ValueError`` works); only several failures at
    once are raised together, as an ``ExceptionGroup``.
    """
    if isinstance(error, BaseExceptionGroup):
        error = _deduplicated(error)
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _deduplicated(group: BaseExceptionGroup[BaseException]) -> BaseExceptionGroup[BaseException]:
    # A body that awaits a failed task's handle re-raises the task's exception, so the task
    # group reports that one failure twice; keep each exception object once.
    seen: set[int] = set()

    def first_sight(error: BaseException) -> bool:
        if isinstance(error, BaseExceptionGroup):
            return False  # look inside
        fresh = id(error) not in seen
        seen.add(id(error))
        return fresh

    return group.subgroup(first_sight) or group


def combine(scope_name: str, errors: Sequence[BaseException]) -> BaseException | None:
    """``None``, the single error, or a group of all of them (an ``ExceptionGroup`` if it can)."""
    if not errors:
        return None
    if len(errors) == 1:
        return collapse(errors[0])
    message = f"{len(errors)} failures in scope {scope_name!r}"
    if all(isinstance(e, Exception) for e in errors):
        return ExceptionGroup(message, [e for e in errors if isinstance(e, Exception)])
    return BaseExceptionGroup(message, list(errors))


def reraise(error: BaseException) -> NoReturn:
    """Raise ``error`` from an ``__exit__`` without chaining it to the exception being handled."""
    context = error.__context__
    try:
        raise error
    finally:
        # `raise` inside __exit__ would set __context__ to the body's exception (often the very
        # group that holds `error`), which makes tracebacks print everything twice.
        error.__context__ = context
        del error
