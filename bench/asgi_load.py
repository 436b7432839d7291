"""Drive an ASGI app: one raw in-process call, or a uvicorn server under a keep-alive load.

The in-process call is what a server does, minus the sockets: it builds the HTTP scope, hands
over the body, and answers ``http.disconnect`` only once the response is complete. The load
generator keeps ``CONCURRENCY`` keep-alive HTTP/1.1 connections busy with a fixed number of
requests; it writes pre-built request bytes and reads each response by its ``content-length``,
so the client costs little next to the server it measures.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import pin_pid

from goscope_redis.testing import free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CONCURRENCY = 8


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a ``POST path`` with a JSON body."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


async def call(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """One request through ``app`` in-process; returns the status."""
    done = asyncio.Event()
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body", False):
            done.set()

    await app(http_scope(path, headers), receive, send)
    return status


def request_bytes(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A keep-alive ``POST`` as it goes on the wire."""
    lines = [f"POST {path} HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    lines += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"content-length:")
    length = int(lower[at + 15 : lower.find(b"\r\n", at)]) if at >= 0 else 0
    await reader.readexactly(length)
    return status


async def load(port: int, n: int, make_request: Callable[[int], bytes], expect: int) -> float:
    """Send ``n`` requests over ``CONCURRENCY`` connections; return the seconds they took."""
    counter = iter(range(n))
    connections = [
        await asyncio.open_connection("127.0.0.1", port) for _ in range(min(CONCURRENCY, n))
    ]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in counter:
            writer.write(make_request(i))
            status = await _read_response(reader)
            if status != expect:
                raise RuntimeError(f"request {i} got {status}, expected {expect}")

    start = time.perf_counter()
    await asyncio.gather(*(client(r, w) for r, w in connections))
    elapsed = time.perf_counter() - start
    for _, writer in connections:
        writer.close()
    return elapsed


@contextmanager
def uvicorn_server(env_vars: dict[str, str], cpus: list[int]) -> Iterator[int]:
    """One uvicorn worker serving ``asgi_app:app_from_env``; yields its port.

    It is pinned to ``cpus`` (the bench picks a CPU other than its own, so client and server do
    not take turns on one core), and its whole process group is killed at exit.
    """
    port = free_port()
    env = {**os.environ, **env_vars}
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), str(ROOT), str(ROOT / "integrations")])
    command = [sys.executable, "-m", "uvicorn", "--factory", "asgi_app:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log"]
    proc = subprocess.Popen(
        command, cwd=BENCH, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        pin_pid(proc.pid, cpus)
        wait_ready(port, proc)
        pin_pid(proc.pid, cpus)  # threads started during start-up too
        yield port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_ready(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    """Wait until the server on ``port`` answers ``/health`` (``proc`` is the server)."""
    import socket

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"uvicorn did not become ready within {deadline_s:.0f} s")
