"""Instructions per operation, counted by valgrind (callgrind): a figure that noise can't move.

Wall-clock ratios need a quiet machine; on a shared 2-vCPU VM the same run can swing by 20 %.
The number of instructions a process executes for one operation does not swing: it shows what
a change really costs or saves, which the timed suite then confirms when the machine is quiet.

* Client side, one process, no server time: ``cache get`` (ours against a redis-py ``GET``) and
  ``lock acquire+release`` (ours against redis-py ``Lock``). Each is run for N and 2N
  operations; the difference over N is the cost of one, start-up excluded.
* Server side of ASGI: one uvicorn worker under callgrind (bare Starlette, the middleware's key
  check only, the whole middleware), counted from the first to the last of N requests without
  an idempotency key (``callgrind_control`` zeroes and dumps the counters around them).

Needs ``valgrind`` (``apt-get install valgrind``); it is not part of ``run.py`` (about three
minutes, and no figure a chart would compare). Run from the repository root::

    python bench/instructions.py            # prints a table, writes bench/results/instructions.json
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT), str(ROOT / "integrations")]

N = 2000  # client-side operations (and twice that)
REQUESTS = 1000  # ASGI requests counted
CLIENT_KINDS = ("get.ours", "get.redis-py", "lock.ours", "lock.redis-py")
ASGI_MODES = ("bare", "layer", "middleware")


def _child(kind: str, n: int, port: int) -> None:
    """Run ``n`` operations of ``kind`` (in the process valgrind watches)."""
    import redis

    from goscope_redis import RedisAdapter
    from goscope_redis.keys import KeySpace

    client = redis.Redis(port=port)
    # Runs go in parallel: each its own keys, so no run waits on another's lock.
    prefix = f"instr:{os.getpid()}:"
    adapter = RedisAdapter(client, key_prefix=prefix)
    adapter.set("k", {"v": 1}, ttl=60_000)
    raw_key = KeySpace(prefix, "cache").key("k")  # the very key (and bytes) ours reads
    raw_lock = prefix + "rlock"

    def ours_lock() -> None:
        adapter.acquire("lock", 10_000).release()  # type: ignore[union-attr]

    def redis_py_lock() -> None:
        lock = client.lock(raw_lock, timeout=10)
        lock.acquire(blocking=False)
        lock.release()

    operations: dict[str, Callable[[], Any]] = {
        "get.ours": lambda: adapter.get("k"),
        "get.redis-py": lambda: client.get(raw_key),
        "lock.ours": ours_lock,
        "lock.redis-py": redis_py_lock,
    }
    run = operations[kind]
    for _ in range(200):  # warm: connections, scripts loaded, caches filled
        run()
    for _ in range(n):
        run()


def _fixed_hashes(env: dict[str, str]) -> dict[str, str]:
    """``env`` with string hashing fixed for the child under valgrind.

    With a random seed per process, dictionaries probe differently in every run: one ASGI
    request served in-process (no sockets) measured 205.6k and 206.9k instructions in two
    runs, and 206.3k twice with the seed fixed. A client row subtracts two processes (N and 2N
    operations), so it took that noise twice; now it repeats to the instruction.
    """
    return {**env, "PYTHONHASHSEED": "0"}


def _collected(kind: str, n: int, port: int) -> int:
    """Instructions of a whole child run of ``n`` operations."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, "--child", kind, str(n), str(port)]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, env=_fixed_hashes(dict(os.environ))
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def client_side(port: int) -> dict[str, float]:
    """Instructions per operation of each client-side kind."""
    jobs = [(kind, n) for kind in CLIENT_KINDS for n in (N, 2 * N)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        totals = list(pool.map(lambda job: _collected(job[0], job[1], port), jobs))
    counts = dict(zip(jobs, totals, strict=True))
    return {kind: (counts[kind, 2 * N] - counts[kind, N]) / N for kind in CLIENT_KINDS}


def _serve(mode: str, redis_url: str, out: Path) -> tuple[subprocess.Popen[bytes], int]:
    from goscope_redis.testing import free_port

    port = free_port()
    env = _fixed_hashes({**os.environ, "GOSCOPE_BENCH_MODE": mode})
    env["GOSCOPE_BENCH_REDIS_URL"] = redis_url
    env["GOSCOPE_BENCH_PREFIX"] = "instr:"
    env["GOSCOPE_BENCH_WATCH_AFTER_S"] = "60"  # see asgi_app.app_from_env
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), str(ROOT), str(ROOT / "integrations")])
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
    command += ["-m", "uvicorn", "--factory", "asgi_app:app_from_env", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(
        command,
        cwd=BENCH,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc, port


def _asgi_mode(mode: str, redis_url: str, workdir: Path) -> float:
    """Instructions per request of one uvicorn worker in ``mode``."""
    from asgi_app import BODY
    from asgi_load import load, request_bytes, wait_ready

    out = workdir / f"asgi.{mode}"
    proc, port = _serve(mode, redis_url, out)
    request = request_bytes("/orders", BODY, {})
    loop = asyncio.new_event_loop()
    try:
        wait_ready(port, proc, deadline_s=180)  # valgrind starts Python slowly
        loop.run_until_complete(load(port, 300, lambda i: request, 201))  # warm
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        loop.run_until_complete(load(port, REQUESTS, lambda i: request, 201))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
    finally:
        loop.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
    return _dumped_total(workdir, out.name) / REQUESTS


def _dumped_total(workdir: Path, stem: str) -> int:
    for dump in sorted(workdir.glob(f"{stem}.*")):  # the -d dump, not the one at exit
        for line in dump.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no callgrind dump for {stem} in {workdir}")


def asgi_side(redis_url: str) -> dict[str, float]:
    """Instructions per request of each ASGI mode."""
    workers = os.cpu_count() or 2
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=workers) as pool:
        per = pool.map(lambda mode: _asgi_mode(mode, redis_url, Path(tmp)), ASGI_MODES)
        return dict(zip(ASGI_MODES, per, strict=True))


def _rows(client: dict[str, float], asgi: dict[str, float]) -> list[tuple[str, float, float]]:
    return [
        ("cache get (ours / redis-py GET)", client["get.ours"], client["get.redis-py"]),
        (
            "lock acquire+release (ours / redis-py Lock)",
            client["lock.ours"],
            client["lock.redis-py"],
        ),
        ("ASGI request, key check only (layer / bare)", asgi["layer"], asgi["bare"]),
        ("ASGI request, no key (middleware / bare)", asgi["middleware"], asgi["bare"]),
    ]


def main() -> None:
    """Count, print and save."""
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind: apt-get install valgrind")
    from goscope_redis.testing import RedisServer

    with RedisServer() as server:
        client = client_side(server.port)
        asgi = asgi_side(server.url)
    rows = _rows(client, asgi)
    print(f"{'instructions per operation':46s} {'ours':>10s} {'peer':>10s} {'ours/peer':>9s}")
    for name, ours, peer in rows:
        print(f"{name:46s} {ours:10,.0f} {peer:10,.0f} {ours / peer:9.3f}")
    result = {"n": N, "requests": REQUESTS, "client": client, "asgi": asgi}
    path = BENCH / "results" / "instructions.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
