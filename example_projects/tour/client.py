"""HTTP for the tour: connections pinned to a worker process, and replies with their pid.

uvicorn's workers share one listening socket, so which worker serves a request depends on which
one accepted the connection. The tour opens keep-alive connections (one ``httpx.AsyncClient``
with a single connection each) until it holds enough on every worker, then uses them to say
"this request goes to worker A, that one to worker B".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class Reply:
    """One response: status, the headers the tour cares about, the JSON body, the pid."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    pid: int

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or ``None``."""
        return self.headers.get(name.lower())


def _reply(response: httpx.Response) -> Reply:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):  # an error page: keep the sections' .get() meaningful
        body = {"outcome": f"HTTP {response.status_code}", "text": response.text[:200]}
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Reply(response.status_code, headers, body, int(headers.get("x-worker-pid", "0")))


def pinned_client(base_url: str) -> httpx.AsyncClient:
    """A client that keeps exactly one connection, so all its requests reach one worker."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=TIMEOUT)


def fresh_client(base_url: str) -> httpx.AsyncClient:
    """A client that opens a new connection per request (any worker may answer)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=TIMEOUT)


async def call(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Reply:
    """Send one request and wrap the response."""
    return _reply(await client.request(method, path, **kwargs))


class Workers:
    """Pinned clients per worker pid: ``workers.on(pid)`` and ``workers.pids``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.by_pid: dict[int, list[httpx.AsyncClient]] = {}

    @property
    def pids(self) -> list[int]:
        """The workers holding pinned connections, in the order found."""
        return list(self.by_pid)

    def on(self, pid: int, index: int = 0) -> httpx.AsyncClient:
        """The ``index``-th connection pinned to worker ``pid``."""
        return self.by_pid[pid][index]

    async def pin(self, per_worker: int, workers: int = 2, attempts: int = 300) -> bool:
        """Open connections until each of ``workers`` processes holds ``per_worker``."""
        for _ in range(attempts):
            if self._enough(per_worker, workers):
                return True
            client = pinned_client(self.base_url)
            try:
                pid = (await call(client, "GET", "/health")).pid
            except httpx.HTTPError:
                await client.aclose()
                continue
            held = self.by_pid.setdefault(pid, [])
            if len(held) < per_worker:
                held.append(client)
            else:
                await client.aclose()
        return self._enough(per_worker, workers)

    def _enough(self, per_worker: int, workers: int) -> bool:
        full = [pid for pid, held in self.by_pid.items() if len(held) >= per_worker]
        return len(full) >= workers

    async def close(self) -> None:
        """Close every pinned connection."""
        for held in self.by_pid.values():
            for client in held:
                await client.aclose()
        self.by_pid.clear()
