"""The two runners: the only place where goscope-redis performs I/O.

``run_sync`` drives an operation over ``redis.Redis`` (or ``RedisCluster``); ``run_async`` drives
the same operation over ``redis.asyncio.Redis``. Both understand the same effects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import Any, TypeVar

from redis.exceptions import NoScriptError

from goscope_redis.effects import Batch, Call, Clock, Effect, Eval, Sleep

T = TypeVar("T")


def _perform_sync(client: Any, effect: Effect) -> Any:
    if effect.__class__ is Call:
        return client.execute_command(*effect.args)
    if isinstance(effect, Eval):
        keys, args = effect.keys, effect.args
        try:
            return client.execute_command("EVALSHA", effect.script.sha, len(keys), *keys, *args)
        except NoScriptError:
            # EVAL also caches the script on the node that ran it; safe on Cluster, where
            # SCRIPT LOAD would have to reach every primary.
            return client.execute_command("EVAL", effect.script.source, len(keys), *keys, *args)
    if isinstance(effect, Batch):
        pipe = client.pipeline(transaction=False)
        for call in effect.calls:
            pipe.execute_command(*call.args)
        return pipe.execute(raise_on_error=False)
    if isinstance(effect, Sleep):
        time.sleep(effect.seconds)
        return None
    if isinstance(effect, Clock):
        return time.monotonic()
    raise TypeError(f"unknown effect {effect!r}")


async def _perform_async(client: Any, effect: Effect) -> Any:
    if effect.__class__ is Call:
        return await client.execute_command(*effect.args)
    if isinstance(effect, Eval):
        keys, args = effect.keys, effect.args
        try:
            return await client.execute_command(
                "EVALSHA", effect.script.sha, len(keys), *keys, *args
            )
        except NoScriptError:
            return await client.execute_command(
                "EVAL", effect.script.source, len(keys), *keys, *args
            )
    if isinstance(effect, Batch):
        pipe = client.pipeline(transaction=False)
        for call in effect.calls:
            pipe.execute_command(*call.args)
        return await pipe.execute(raise_on_error=False)
    if isinstance(effect, Sleep):
        await asyncio.sleep(effect.seconds)
        return None
    if isinstance(effect, Clock):
        return time.monotonic()
    raise TypeError(f"unknown effect {effect!r}")


def run_sync(op: Generator[Effect, Any, T], client: Any) -> T:
    """Drive ``op`` to completion over a synchronous redis-py client."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = op.send(reply) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            reply, error = _perform_sync(client, effect), None
        except Exception as exc:
            reply, error = None, exc


async def run_async(op: Generator[Effect, Any, T], client: Any) -> T:
    """Drive ``op`` to completion over a ``redis.asyncio`` client."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = op.send(reply) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            reply, error = await _perform_async(client, effect), None
        except Exception as exc:
            reply, error = None, exc
