"""Drive a sans-IO operation with scripted replies: no Redis, fully deterministic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from goscope_redis.effects import Effect, Op


def drive(op: Op[Any], replies: Iterable[Any]) -> tuple[list[Effect], Any]:
    """Feed ``replies`` one per effect; an Exception instance is thrown into the op."""
    effects: list[Effect] = []
    pending = iter(replies)
    reply: Any = None
    throw: BaseException | None = None
    while True:
        try:
            effect = op.throw(throw) if throw is not None else op.send(reply)
        except StopIteration as stop:
            return effects, stop.value
        effects.append(effect)
        nxt = next(pending)
        reply, throw = (None, nxt) if isinstance(nxt, BaseException) else (nxt, None)
