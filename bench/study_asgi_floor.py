"""The floor under ``asgi.no_key.uvicorn``: what a request scope costs at the least, measured so
that the machine's noise cancels out.

``performance.md`` asks a request without an idempotency key to run at 0.95x of bare Starlette.
This study builds the middleware up step by step and measures each step against bare Starlette
on a *shared CPU*: both uvicorn workers pinned to one CPU and loaded at the same time, four
keep-alive connections each with eight requests pipelined, for a fixed time. The scheduler
gives both workers the same CPU time, so their throughputs compare their costs per request
directly, and a slow moment of the machine slows both alike. (Run one after the other, as
``asgi.no_key.uvicorn`` does, the same comparison swings by 10-20 % on a shared 2-vCPU VM; on
a shared CPU it stays within a few %.)

The steps (bench-only stand-ins in ``asgi_app.STAND_INS``, then the real middleware):

* ``layer``: the key check and one more ``await``, what any pure-ASGI middleware costs;
* ``bind``: plus the least a request scope can be, a deferred scope bound in the context
  variable (no state entry, no watch);
* ``wrap``: plus the least a disconnect watch needs, the first message read ahead and the app's
  ``receive``/``send`` wrapped (no watcher timer, no ``request.state``);
* ``middleware``: the real thing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from contextlib import ExitStack

from asgi_app import BODY
from asgi_load import _read_response, request_bytes, uvicorn_server
from cases_asgi import _server_cpus
from harness import PREFIX, Env
from tables import Study, Table

STEPS = (
    ("layer", "the key check, one more await (any pure-ASGI layer)"),
    ("bind", "+ a deferred scope bound in the context variable"),
    ("wrap", "+ first message read ahead, receive/send wrapped"),
    ("middleware", "GoScopeMiddleware (+ request.state.scope, the watcher)"),
)
ROUNDS, SECONDS, CONNECTIONS, DEPTH = 5, 1.5, 4, 8
TARGET = 0.95
REQUEST = request_bytes("/orders", BODY, {})
BATCH = REQUEST * DEPTH


async def _drive(port: int, deadline: float, done: list[int]) -> None:
    """Keep one connection busy with pipelined batches of ``DEPTH`` requests until ``deadline``.

    Pipelining keeps the client cheap (one write and one read per batch, responses counted in
    C), so the workers, not the load generator, are what runs out of CPU.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST)
        if await _read_response(reader) != 201:
            raise RuntimeError(f"the app on port {port} did not answer 201")
        writer.write(REQUEST)  # every response has the same length: learn it
        size = len(await reader.readuntil(b"}"))
        while time.monotonic() < deadline:
            writer.write(BATCH)
            answers = await reader.readexactly(size * DEPTH)
            if answers.count(b" 201 ") != DEPTH:
                raise RuntimeError(f"the app on port {port} did not answer 201 to all")
            done[0] += DEPTH
    finally:
        writer.close()


async def _shared_round(ours: int, bare: int, seconds: float) -> tuple[int, int]:
    """Load both workers at once for ``seconds``; the requests each answered."""
    counts = ([0], [0])
    deadline = time.monotonic() + seconds
    drivers = [_drive(port, deadline, count) for port, count in zip((ours, bare), counts)]
    await asyncio.gather(*(driver for driver in drivers for _ in range(CONNECTIONS)))
    return counts[0][0], counts[1][0]


def _serve(stack: ExitStack, env: Env, mode: str) -> int:
    variables = {
        "GOSCOPE_BENCH_MODE": mode,
        "GOSCOPE_BENCH_REDIS_URL": env.url,
        "GOSCOPE_BENCH_PREFIX": PREFIX,
    }
    return stack.enter_context(uvicorn_server(variables, _server_cpus(env)))


def _step(env: Env, mode: str, bare: int) -> tuple[float, float, float, float]:
    """Median, min and max throughput ratio of ``mode`` over bare, and its median req/s."""
    rounds, seconds = (1, 0.3) if env.quick else (ROUNDS, SECONDS)
    with ExitStack() as stack:
        ours = _serve(stack, env, mode)
        env.loop.run_until_complete(_shared_round(ours, bare, 0.3))  # warm both
        counts = [
            env.loop.run_until_complete(_shared_round(ours, bare, seconds)) for _ in range(rounds)
        ]
    ratios = [mine / theirs for mine, theirs in counts]
    rate = statistics.median(mine for mine, _ in counts) / seconds
    return statistics.median(ratios), min(ratios), max(ratios), rate


def run(env: Env) -> Table:
    """The ladder from a bare layer to the whole middleware, each against bare Starlette."""
    steps = STEPS[-1:] if env.quick else STEPS
    rows, medians = [], {}
    with ExitStack() as stack:
        bare = _serve(stack, env, "bare")
        for mode, what in steps:
            median, low, high, rate = _step(env, mode, bare)
            medians[mode] = median
            rows.append((mode, what, f"{median:.3f}x [{low:.3f}..{high:.3f}]", round(rate)))
    notes = [
        "ratio = requests answered by the stack / by bare Starlette in the same seconds, both "
        f"workers pinned to one CPU and loaded at once ({CONNECTIONS} connections each, "
        f"{DEPTH} requests pipelined); median [min..max] "
        f"of {1 if env.quick else ROUNDS} rounds of {0.3 if env.quick else SECONDS} s",
        "req/s is the stack's own, with half a CPU: compare ratios, not rates",
    ]
    below = [mode for mode, median in medians.items() if median < TARGET]
    if below:
        notes.append(
            f"the {TARGET}x target of asgi.no_key.uvicorn is first crossed at '{below[0]}' "
            "(see the closing note of issue 9)"
        )
    return Table(
        "asgi_floor",
        "ASGI, no idempotency key: the middleware built up step by step, on a shared CPU",
        ("stack", "what it adds", "x bare Starlette", "req/s"),
        tuple(rows),
        tuple(notes),
    )


STUDIES = (Study("study.asgi_floor", run),)
