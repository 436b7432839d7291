"""Run a function in several real OS processes and collect their results.

Workers are started with the ``spawn`` method, so each builds its own Redis connections (as a
separate worker process of a web server would). ``target`` must be a module-level function.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from typing import Any


def _trampoline(target: Callable[..., Any], args: tuple[Any, ...], queue: Any, index: int) -> None:
    try:
        queue.put((index, True, target(*args)))
    except BaseException as exc:
        queue.put((index, False, repr(exc)))
        raise


def run_workers(
    target: Callable[..., Any],
    args_per_worker: Sequence[tuple[Any, ...]],
    timeout: float = 60.0,
) -> list[Any]:
    """Start one process per args tuple; return each worker's return value, in order."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_trampoline, args=(target, args, queue, i), daemon=True)
        for i, args in enumerate(args_per_worker)
    ]
    for proc in procs:
        proc.start()
    results: dict[int, Any] = {}
    try:
        for _ in procs:
            index, ok, value = queue.get(timeout=timeout)
            if not ok:
                raise AssertionError(f"worker {index} failed: {value}")
            results[index] = value
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return [results[i] for i in range(len(procs))]
