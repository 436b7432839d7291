"""The fenced stock store: every write carries the lock's fencing token.

A lock holder can be paused (GC, swap, a slow disk) past its lease; another process then takes
the lock and writes. When the first one wakes up, its write must not land. The store remembers
the highest token it has seen and refuses a write with a lower one, in one Lua script (so the
check and the write are atomic). This is the application side of fencing: the lock hands out
tokens, the resource enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from example_projects.shopkit.settings import INITIAL_STOCK

# Tokens can be microsecond-sized integers: store ARGV[1] as given, since Redis would write a
# Lua number that large in exponent notation.
_RESERVE = """
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local left = tonumber(redis.call('HGET', KEYS[1], 'left') or ARGV[3])
local token = tonumber(ARGV[1])
if token < fence then
  return {'fenced', fence, left}
end
local want = tonumber(ARGV[2])
if want > left then
  return {'sold-out', fence, left}
end
redis.call('HSET', KEYS[1], 'left', left - want, 'fence', ARGV[1])
return {'ok', token, left - want}
"""


@dataclass(frozen=True, slots=True)
class StockWrite:
    """The outcome of a fenced write: ``ok``, ``fenced`` (stale token) or ``sold-out``."""

    outcome: str
    last_token: int
    left: int


class FencedStock:
    """Stock levels per order line in a Redis hash (``left``, ``fence``), async client."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    def _key(self, order_id: str) -> str:
        return f"{self._prefix}stock:{{{order_id}}}"

    async def reserve(self, order_id: str, quantity: int, token: int) -> StockWrite:
        """Take ``quantity`` units if ``token`` is not older than the last write's token."""
        reply = await self._reserve(
            keys=[self._key(order_id)], args=[token, quantity, INITIAL_STOCK]
        )
        outcome = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        return StockWrite(outcome, int(reply[1]), int(reply[2]))

    async def level(self, order_id: str) -> dict[str, int]:
        """The current stock and the last accepted token."""
        raw = await self._client.hgetall(self._key(order_id))
        fields = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw.items()}
        return {"left": fields.get("left", INITIAL_STOCK), "last_token": fields.get("fence", 0)}
