"""ASGI: a bare Starlette app against the same app behind ``GoScopeMiddleware``.

* ``asgi.no_key.*``: requests without an idempotency key, which must cost no Redis round trip.
  In-process (a raw ASGI call loop, no server: the middleware's whole cost against a
  microseconds-cheap app) and through uvicorn under a keep-alive load (the realistic figure the
  target applies to): the two workers share one CPU and are loaded at once (``asgi_shared``),
  because measured one after the other they swung by 10-20 % between runs here.
* ``asgi.idempotent.first.*``: every request carries a fresh key (``begin`` + ``complete``: 2
  round trips). ``asgi.idempotent.replay.*``: every request repeats one key and is replayed
  without running the handler (1 round trip).
* ``asgi.idempotent.*.vs-aih``: the same, in-process, against asgi-idempotency-header's
  ``IdempotencyHeaderMiddleware`` with its Redis backend (no lease, no fingerprint, not atomic:
  a check, then separate writes).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from asgi_app import BODY, build
from asgi_load import call, load, request_bytes, uvicorn_server
from asgi_shared import CONNECTIONS, DEPTH, paired_cases
from harness import PREFIX, Case, Comparison, Env, Runner, Sample, async_runner

from goscope_redis import AsyncRedisAdapter

Headers = Callable[[int], dict[str, str]]
_SALT = itertools.count()  # each case setup numbers its requests from its own range


def no_key(i: int) -> dict[str, str]:
    """No idempotency key."""
    return {}


_RUN = uuid.uuid4().hex[:12]


def fresh_key(i: int) -> dict[str, str]:
    """A new key per request (first execution every time; unique across cases and runs)."""
    return {"Idempotency-Key": f"first-{_RUN}-{i}"}


def same_key(i: int) -> dict[str, str]:
    """One key for every request (a replay after the first)."""
    return {"Idempotency-Key": "replayed"}


def in_process(
    with_middleware: bool, headers: Headers
) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup calling the app directly, ``headers(i)`` on request ``i``."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        adapter = AsyncRedisAdapter(env.aclient, key_prefix=PREFIX) if with_middleware else None
        app = build(adapter)
        counter = itertools.count(_SALT.__next__() * 1_000_000_000)

        async def once() -> None:
            raw = [(k.lower().encode(), v.encode()) for k, v in headers(next(counter)).items()]
            status = await call(app, "/orders", BODY, raw)
            if status != 201:
                raise RuntimeError(f"the app answered {status}")

        yield async_runner(env, once)

    return setup


def aih_in_process(headers: Headers) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup: the app behind asgi-idempotency-header (Redis backend), called in-process."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        from idempotency_header_middleware import IdempotencyHeaderMiddleware
        from idempotency_header_middleware.backends.redis import RedisBackend

        backend = RedisBackend(
            env.aclient, keys_key=f"{PREFIX}aih-keys", response_key=f"{PREFIX}aih:", expiry=600
        )
        app = build()
        app.add_middleware(IdempotencyHeaderMiddleware, backend=backend)
        counter = itertools.count(_SALT.__next__() * 1_000_000_000)

        async def once() -> None:
            raw = [(k.lower().encode(), v.encode()) for k, v in headers(next(counter)).items()]
            status = await call(app, "/orders", BODY, raw)
            if status != 201:
                raise RuntimeError(f"the app answered {status}")

        yield async_runner(env, once)

    return setup


def served(
    with_middleware: bool, headers: Headers, mode: str | None = None
) -> Callable[[Env], AbstractContextManager[Runner]]:
    """A case setup driving one uvicorn worker (on another CPU than the load) over loopback.

    ``mode`` overrides the app's mode (see ``asgi_app.app_from_env``)."""

    @contextmanager
    def setup(env: Env) -> Iterator[Runner]:
        mode_ = mode or ("middleware" if with_middleware else "bare")
        env_vars = {
            "GOSCOPE_BENCH_MODE": mode_,
            "GOSCOPE_BENCH_REDIS_URL": env.url,
            "GOSCOPE_BENCH_PREFIX": PREFIX,
        }
        counter = itertools.count(_SALT.__next__() * 1_000_000_000)

        def make_request(i: int) -> bytes:
            return request_bytes("/orders", BODY, headers(next(counter)))

        with uvicorn_server(env_vars, _server_cpus(env)) as port:

            def run(n: int) -> Sample:
                seconds = env.loop.run_until_complete(load(port, n, make_request, 201))
                return Sample(seconds, n)

            yield run

    return setup


def _server_cpus(env: Env) -> list[int]:
    """A CPU other than the bench's own pinned one, when there is one."""
    if not env.pinned or not hasattr(os, "sched_getaffinity"):
        return []
    others = [cpu for cpu in range(os.cpu_count() or 1) if cpu not in env.pinned]
    return others[:1] or env.pinned


def _pair(name: str, headers: Headers, note: str) -> tuple[Comparison, ...]:
    """The in-process and the uvicorn comparison of one request kind."""
    ours, bare = "Starlette + GoScopeMiddleware", "bare Starlette"
    return (
        _in_process(name, headers, note),
        Comparison(
            f"asgi.{name}.uvicorn",
            Case(f"uvicorn: {ours}", served(True, headers)),
            Case(f"uvicorn: {bare}", served(False, headers)),
            None,
            unit="req",
            iterations=3000,
            samples=5,
            quick_iterations=100,
            quick_samples=1,
            note=f"1 uvicorn worker on its own CPU, 8 keep-alive connections; {note}",
        ),
    )


def _in_process(name: str, headers: Headers, note: str) -> Comparison:
    return Comparison(
        f"asgi.{name}.inprocess",
        Case("Starlette + GoScopeMiddleware", in_process(True, headers)),
        Case("bare Starlette", in_process(False, headers)),
        None,
        unit="req",
        note=f"raw ASGI call loop, no server; {note}",
    )


def _shared(name: str, mode: str, label: str, target: float | None, note: str) -> Comparison:
    """``mode`` against bare Starlette, both uvicorn workers on one CPU, loaded at once."""
    ours, peer = paired_cases(mode, "bare", request_bytes("/orders", BODY, {}), _server_cpus)
    return Comparison(
        name,
        Case(f"uvicorn: {label}", ours),
        Case("uvicorn: bare Starlette", peer),
        target,
        unit="req",
        iterations=6000,
        samples=5,
        quick_iterations=100,
        quick_samples=1,
        in_quick=target is not None,
        note=f"both workers on one CPU, loaded at once ({CONNECTIONS} connections each, "
        f"{DEPTH} requests pipelined): us/req is with half a CPU; {note}",
    )


def _vs_aih(name: str, headers: Headers, note: str) -> Comparison:
    return Comparison(
        f"asgi.{name}.vs-aih",
        Case("Starlette + GoScopeMiddleware", in_process(True, headers)),
        Case("Starlette + asgi-idempotency-header", aih_in_process(headers)),
        None,
        unit="req",
        note=f"raw ASGI call loop, no server; {note}",
    )


COMPARISONS = (
    _in_process("no_key", no_key, "no idempotency key: 0 round trips"),
    _shared(
        "asgi.no_key.uvicorn",
        "middleware",
        "Starlette + GoScopeMiddleware",
        0.95,
        "no idempotency key: 0 round trips",
    ),
    *_pair("idempotent.first", fresh_key, "a fresh key per request: begin + complete"),
    *_pair("idempotent.replay", same_key, "one key, replayed: begin only"),
    _shared(
        "asgi.no_key.uvicorn.layer-only",
        "layer",
        "the middleware without scope and watch",
        None,
        "the key check alone: what any pure-ASGI layer costs here (asgi.no_key's floor)",
    ),
    _vs_aih("idempotent.first", fresh_key, "a fresh key per request"),
    _vs_aih("idempotent.replay", same_key, "one key, replayed"),
)
