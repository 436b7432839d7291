"""What every subcommand works with: one sync client, the adapter and the output streams."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

import redis
import redis.cluster

from goscope_redis.adapter import RedisAdapter
from goscope_redis.keys import KeySpace


class CliError(Exception):
    """A problem the CLI reports as one line on stderr, with its exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Context:
    """The connection and the output settings of one CLI run."""

    client: Any
    adapter: RedisAdapter
    prefix: str
    location: str
    as_json: bool

    @property
    def out(self) -> TextIO:
        """Standard output, looked up at use so tests can capture it."""
        return sys.stdout

    def space(self, kind: str) -> KeySpace:
        """The key space of ``kind`` under this run's prefix."""
        return KeySpace(self.prefix, kind)

    def now_ms(self) -> int:
        """Redis ``TIME`` in epoch ms: stored times come from it, so ages must too."""
        seconds, micros = self.client.time()
        return int(seconds) * 1000 + int(micros) // 1000


def redacted(url: str) -> str:
    """``url`` without user name or password, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def open_context(url: str, prefix: str, as_json: bool) -> Context:
    """Connect (and ``PING``) so that an unreachable server fails before any output.

    A URL naming one node of a Redis Cluster gets a cluster client, so that every read walks
    all the primaries: a plain client would see that one node's share of the keys.
    """
    try:
        client: Any = redis.Redis.from_url(url, **_TIMEOUTS)
    except ValueError as exc:
        raise CliError(f"invalid Redis URL {redacted(url)!r}: {exc}") from None
    try:
        adapter = RedisAdapter(client, prefix)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from None
    client.ping()
    if _cluster_enabled(client):
        client.close()
        client = redis.cluster.RedisCluster.from_url(url, **_TIMEOUTS)
        adapter = RedisAdapter(client, prefix)
    return Context(client, adapter, prefix, redacted(url), as_json)


_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 5, "socket_timeout": 30}


def _cluster_enabled(client: redis.Redis) -> bool:
    try:
        info = client.info("cluster")
    except redis.ResponseError:  # a user whose ACL forbids INFO: treat it as a single server
        return False
    return bool(info.get("cluster_enabled"))
