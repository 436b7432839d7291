"""A tiny fenced store: the storage side of fencing tokens, for the fault tests.

A write carries the writer's fencing token and is accepted only if the token is greater than
every token the store has accepted before (one Lua script, so the check and the write are one
step). A paused or partitioned former lock holder is thereby rejected, whatever it believes.
"""

from __future__ import annotations

import redis

_WRITE = """
local last = tonumber(redis.call('HGET', KEYS[1], 'token') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'value', ARGV[2])
return 1
"""


class FencedStore:
    """One fenced record in a Redis that the tests never fault."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._client = redis.Redis.from_url(url)
        self._write = self._client.register_script(_WRITE)

    def write(self, token: int, value: str) -> bool:
        """Store ``value`` if ``token`` beats every token seen so far."""
        return bool(self._write(keys=[self.key], args=[token, value]))

    def read(self) -> tuple[int, str] | None:
        """The last accepted ``(token, value)``, or ``None``."""
        token, value = self._client.hmget(self.key, ["token", "value"])
        return None if token is None else (int(token), value.decode())

    def close(self) -> None:
        """Close the connection."""
        self._client.close()
