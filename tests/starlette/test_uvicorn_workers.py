"""A real uvicorn with two worker processes: concurrent duplicates run the handler once.

The duplicates are sent over keep-alive connections known to be open to *each* of the two
workers (learned from ``/health``), so the test always pits the two processes against each
other instead of depending on how the kernel spreads new connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h11
import pytest
import redis

from goscope_redis.keys import KeySpace
from goscope_redis.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
DUPLICATES = 20
pytestmark = pytest.mark.slow


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection (h11 over asyncio streams)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._http = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        fields = [("host", "127.0.0.1"), ("content-length", str(len(body)))]
        fields += [("content-type", "application/json"), *(headers or {}).items()]
        for event in (h11.Request(method=method, target=path, headers=fields), h11.Data(body)):
            self._writer.write(self._http.send(event) or b"")
        self._writer.write(self._http.send(h11.EndOfMessage()) or b"")
        await self._writer.drain()
        return await self._response()

    async def _response(self) -> Reply:
        status, headers, chunks = 0, {}, []
        while True:
            event = self._http.next_event()
            if event is h11.NEED_DATA:
                self._http.receive_data(await self._reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._http.start_next_cycle()
                return Reply(status, headers, b"".join(chunks))

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


@pytest.fixture
def server(redis_server: Any, prefix: str) -> Iterator[int]:
    """``uvicorn tests.starlette.uvicorn_app:app --workers 2`` on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "GOSCOPE_TEST_REDIS_URL": redis_server.url,
        "GOSCOPE_TEST_PREFIX": prefix,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "integrations")]),
    }
    command = [sys.executable, "-m", "uvicorn", "tests.starlette.uvicorn_app:app"]
    command += ["--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            _wait_ready(port, proc, log)
            yield port
        finally:
            _stop(proc)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Any) -> None:
    """Until both workers have answered ``/health``; fail with uvicorn's log if it died."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log.read().decode()[-2000:]}")
        try:
            if len(asyncio.run(_connections_per_worker(port, 2, attempts=8))) == 2:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("uvicorn's two workers did not both become ready within 15 s")


async def _connections_per_worker(
    port: int, per_worker: int, attempts: int
) -> dict[str, list[Connection]]:
    """Open connections until each worker holds ``per_worker`` of them (or attempts run out)."""
    found: dict[str, list[Connection]] = {}
    spare: list[Connection] = []
    for _ in range(attempts):
        connection = await Connection.open(port)
        pid = str((await connection.request("GET", "/health")).json()["pid"])
        held = found.setdefault(pid, [])
        (held if len(held) < per_worker else spare).append(connection)
        if len(found) == 2 and all(len(c) == per_worker for c in found.values()):
            break
    for connection in spare:
        await connection.close()
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the whole process group (the supervisor and both workers), by force if need be."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


async def _duplicates(port: int, key: str) -> tuple[list[Reply], set[str]]:
    """``DUPLICATES`` concurrent POSTs with one key, half over each worker's connections."""
    by_worker = await _connections_per_worker(port, DUPLICATES // 2, attempts=200)
    connections = [c for held in by_worker.values() for c in held]
    assert len(by_worker) == 2 and len(connections) == DUPLICATES
    body, headers = b'{"amount": 42}', {"Idempotency-Key": key}
    try:
        replies = await asyncio.gather(
            *(c.request("POST", "/charge", body, headers) for c in connections)
        )
    finally:
        for connection in connections:
            await connection.close()
    return list(replies), set(by_worker)


def _runs(redis_server: Any, prefix: str) -> bytes | None:
    raw = redis.Redis(port=redis_server.port)
    try:
        value: bytes | None = raw.get(KeySpace(prefix, "cache").key("charge-runs"))
        return value
    finally:
        raw.close()


def test_twenty_concurrent_duplicates_on_two_workers_run_the_handler_once(
    server: int, redis_server: Any, prefix: str
) -> None:
    replies, workers = asyncio.run(_duplicates(server, "charge-1"))

    assert _runs(redis_server, prefix) == b"1"
    assert {r.headers["x-worker"] for r in replies} == workers  # both workers answered
    originals = [r for r in replies if r.status == 201 and "idempotent-replayed" not in r.headers]
    others = [r for r in replies if r not in originals]
    assert len(originals) == 1 and originals[0].json()["run"] == 1
    for reply in others:
        if reply.status == 409:
            assert reply.headers["content-type"] == "application/problem+json"
            assert int(reply.headers["retry-after"]) >= 1
        else:
            assert reply.headers["idempotent-replayed"] == "true"
            assert (reply.status, reply.body) == (201, originals[0].body)

    retries, _ = asyncio.run(_duplicates(server, "charge-1"))
    for reply in retries:
        assert reply.headers["idempotent-replayed"] == "true"
        assert (reply.status, reply.body) == (201, originals[0].body)
    assert _runs(redis_server, prefix) == b"1"
