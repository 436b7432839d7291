"""Idempotency across real OS processes: 4 WSGI workers, and uvicorn with 2 workers."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from goscope_redis.testing import free_port
from tests.procs import run_workers

ROOT = Path(__file__).resolve().parents[2]
BODY = json.dumps({"amount": 10})


def race(url: str, prefix: str, barrier: Any) -> tuple[int, bool]:
    """One worker process: configure Django, wait for the others, POST the shared key."""
    from tests.django import settings as test_settings

    test_settings.configure(url, prefix)
    from django.test import Client

    client = Client()
    client.post("/plain")  # warm: imports, URL resolver, pool
    barrier.wait(30)
    response = client.post(
        "/charge?sleep=0.5", BODY, "application/json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    return response.status_code, response.get("Idempotent-Replayed") == "true"


@pytest.mark.slow
def test_four_processes_racing_one_key_execute_once(
    redis_server: Any, prefix: str, raw: redis.Redis
) -> None:
    import multiprocessing

    barrier = multiprocessing.get_context("spawn").Barrier(4)
    results = run_workers(race, [(redis_server.url, prefix, barrier)] * 4)
    assert int(raw.get(f"{prefix}test-hits:charge") or 0) == 1
    ran = [r for r in results if r == (201, False)]
    assert len(ran) == 1, results
    assert all(r in {(409, False), (201, True)} for r in results if r != (201, False)), results


@pytest.fixture
def uvicorn_server(redis_server: Any, prefix: str) -> Iterator[str]:
    """uvicorn with 2 worker processes serving tests/django/asgi_app.py."""
    port = free_port()
    env = {
        **os.environ,
        "GOSCOPE_TEST_REDIS_URL": redis_server.url,
        "GOSCOPE_TEST_PREFIX": prefix,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "integrations")]),
    }
    command = [sys.executable, "-m", "uvicorn", "tests.django.asgi_app:application"]
    command += ["--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, proc)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _wait_until_serving(base: str, proc: subprocess.Popen[bytes]) -> None:
    workers: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(workers) < 2:
        assert proc.poll() is None, "uvicorn exited"
        try:
            workers.add(httpx.post(f"{base}/aplain", timeout=2).headers["X-Worker"])
        except httpx.TransportError:
            time.sleep(0.1)
    assert workers, "uvicorn did not start"


def _post(base: str, body: str, key: str, path: str = "/acharge") -> httpx.Response:
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    return httpx.post(f"{base}{path}", content=body, headers=headers, timeout=10)


@pytest.mark.slow
def test_idempotency_holds_across_uvicorn_workers(
    uvicorn_server: str, raw: redis.Redis, prefix: str
) -> None:
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        burst = list(
            pool.map(lambda _: _post(uvicorn_server, BODY, "k1", "/acharge?sleep=0.5"), range(6))
        )
    outcomes = [(r.status_code, r.headers.get("Idempotent-Replayed")) for r in burst]
    assert outcomes.count((201, None)) == 1, outcomes
    assert all(o in {(409, None), (201, "true")} for o in outcomes if o != (201, None)), outcomes
    first = next(
        r for r in burst if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    )
    assert int(raw.get(f"{prefix}test-hits:acharge") or 0) == 1

    served_by: set[str] = set()
    for _ in range(40):  # fresh connections: the kernel spreads them over both workers
        replay = _post(uvicorn_server, BODY, "k1", "/acharge?sleep=0.5")
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.content == first.content
        served_by.add(replay.headers["X-Worker"])
        if len(served_by) == 2:
            break
    assert len(served_by) == 2, "every replay was served by one worker"
    assert int(raw.get(f"{prefix}test-hits:acharge") or 0) == 1

    mismatch = _post(uvicorn_server, json.dumps({"amount": 11}), "k1", "/acharge?sleep=0.5")
    assert mismatch.status_code == 422
    assert mismatch.headers["Content-Type"] == "application/problem+json"
