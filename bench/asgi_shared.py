"""Two uvicorn workers on one CPU, loaded at the same time: their throughputs compare directly.

Run one after the other, the same two ASGI stacks swing by 10-20 % on a shared 2-vCPU VM (the
machine's slow moments fall on one side or the other). Pinned to one CPU and loaded at once, the
scheduler gives both workers the same CPU time and a slow moment slows both alike, so the ratio
of the requests each answered stays within a few %. :func:`shared_round` runs one such round;
:func:`paired_cases` turns it into the two case setups of one harness comparison.

Each worker gets ``CONNECTIONS`` keep-alive connections, each with ``DEPTH`` requests pipelined:
the client then costs one write and one read per batch (responses counted in C), so the
workers, not the load generator, run out of CPU.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from asgi_load import _read_response, uvicorn_server
from harness import PREFIX, Env, Runner, Sample

CONNECTIONS, DEPTH = 4, 8

Setup = Callable[[Env], AbstractContextManager[Runner]]


async def _drive(port: int, request: bytes, done: list[int], going: Callable[[], bool]) -> None:
    """Keep one connection busy with pipelined batches of ``request`` while ``going()``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        if await _read_response(reader) != 201:
            raise RuntimeError(f"the app on port {port} did not answer 201")
        writer.write(request)  # every response has the same length: learn it
        size = len(await reader.readuntil(b"}"))
        batch = request * DEPTH
        while going():
            writer.write(batch)
            answers = await reader.readexactly(size * DEPTH)
            if answers.count(b" 201 ") != DEPTH:
                raise RuntimeError(f"the app on port {port} did not answer 201 to all")
            done[0] += DEPTH
    finally:
        writer.close()


async def shared_round(
    ports: tuple[int, int], request: bytes, *, seconds: float = math.inf, until: int | None = None
) -> tuple[int, int, float]:
    """Load both workers at once until ``seconds`` pass or the first has answered ``until``.

    Returns the requests each answered and the seconds it took.
    """
    counts = ([0], [0])
    began = time.perf_counter()
    deadline = time.monotonic() + seconds

    def going() -> bool:
        return time.monotonic() < deadline and (until is None or counts[0][0] < until)

    drivers = [_drive(port, request, count, going) for port, count in zip(ports, counts)]
    await asyncio.gather(*(driver for driver in drivers for _ in range(CONNECTIONS)))
    return counts[0][0], counts[1][0], time.perf_counter() - began


def serve(stack: ExitStack, env: Env, mode: str, cpus: list[int]) -> int:
    """Start a uvicorn worker of ``asgi_app`` in ``mode`` on ``cpus``; its port."""
    variables = {
        "GOSCOPE_BENCH_MODE": mode,
        "GOSCOPE_BENCH_REDIS_URL": env.url,
        "GOSCOPE_BENCH_PREFIX": PREFIX,
    }
    return stack.enter_context(uvicorn_server(variables, cpus))


def paired_cases(
    ours_mode: str, peer_mode: str, request: bytes, cpus: Callable[[Env], list[int]]
) -> tuple[Setup, Setup]:
    """The ``ours`` and ``peer`` setups of one comparison, measured together in shared rounds.

    The harness calls each side's runner in turn (A/B, then B/A). The k-th call of either side
    belongs to round k: whichever side comes first runs it (until ``ours`` has answered ``n``
    requests), the other reports its own share of it. A side's sample is the round's time over
    the requests it answered, so the harness's ratio is the ratio of requests answered.
    """
    rounds: list[tuple[Sample, Sample]] = []
    calls = [0, 0]
    ports: list[int] = []

    def runner(env: Env, side: int) -> Runner:
        def run(n: int) -> Sample:
            k, calls[side] = calls[side], calls[side] + 1
            if k == len(rounds):
                got = env.loop.run_until_complete(
                    shared_round((ports[0], ports[1]), request, until=n)
                )
                ours, peer, seconds = got
                rounds.append((Sample(seconds, ours), Sample(seconds, peer)))
            return rounds[k][side]

        return run

    @contextmanager
    def ours_setup(env: Env) -> Iterator[Runner]:
        rounds.clear()
        calls[:] = [0, 0]
        with ExitStack() as stack:
            ports[:] = [serve(stack, env, mode, cpus(env)) for mode in (ours_mode, peer_mode)]
            yield runner(env, 0)

    @contextmanager
    def peer_setup(env: Env) -> Iterator[Runner]:
        yield runner(env, 1)  # the workers are ours_setup's: the harness enters it first

    return ours_setup, peer_setup
