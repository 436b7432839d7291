"""The floor under ``asgi.no_key.uvicorn``: what a request scope costs at the least, measured so
that the machine's noise cancels out.

``performance.md`` asks a request without an idempotency key to run at 0.95x of bare Starlette.
This study builds the middleware up step by step and measures each step against bare Starlette
the way ``asgi.no_key.uvicorn`` itself is measured (``asgi_shared``): both uvicorn workers
pinned to one CPU and loaded at the same time, for a fixed time per round.

The steps (bench-only stand-ins in ``asgi_app.STAND_INS``, then the real middleware):

* ``layer``: the key check and one more ``await``, what any pure-ASGI middleware costs;
* ``bind``: plus the least a request scope can be, a deferred scope bound in the context
  variable (no state entry, no watch);
* ``wrap``: plus the least a disconnect watch needs, the first message read ahead and the app's
  ``receive``/``send`` wrapped (no watcher timer, no ``request.state``);
* ``middleware``: the real thing.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack

from asgi_app import BODY
from asgi_load import request_bytes
from asgi_shared import CONNECTIONS, DEPTH, serve, shared_round
from cases_asgi import _server_cpus
from harness import Env
from tables import Study, Table

STEPS = (
    ("layer", "the key check, one more await (any pure-ASGI layer)"),
    ("bind", "+ a deferred scope bound in the context variable"),
    ("wrap", "+ first message read ahead, receive/send wrapped"),
    ("middleware", "GoScopeMiddleware (+ request.state.scope, the watcher)"),
)
ROUNDS, SECONDS = 5, 1.5
TARGET = 0.95
REQUEST = request_bytes("/orders", BODY, {})


def _step(env: Env, mode: str, bare: int) -> tuple[float, float, float, float]:
    """Median, min and max throughput ratio of ``mode`` over bare, and its median req/s."""
    rounds, seconds = (1, 0.3) if env.quick else (ROUNDS, SECONDS)
    with ExitStack() as stack:
        ours = serve(stack, env, mode, _server_cpus(env))
        env.loop.run_until_complete(shared_round((ours, bare), REQUEST, seconds=0.3))  # warm both
        counts = [
            env.loop.run_until_complete(shared_round((ours, bare), REQUEST, seconds=seconds))
            for _ in range(rounds)
        ]
    ratios = [mine / theirs for mine, theirs, _ in counts]
    rate = statistics.median(mine for mine, _, _ in counts) / seconds
    return statistics.median(ratios), min(ratios), max(ratios), rate


def run(env: Env) -> Table:
    """The ladder from a bare layer to the whole middleware, each against bare Starlette."""
    steps = STEPS[-1:] if env.quick else STEPS
    rows, medians = [], {}
    with ExitStack() as stack:
        bare = serve(stack, env, "bare", _server_cpus(env))
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
