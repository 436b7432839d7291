"""A deliberately flaky upstream price service, so the tour can open the circuit breaker."""

from __future__ import annotations

import anyio


class UpstreamError(RuntimeError):
    """The upstream answered with an error (simulated)."""


async def fetch_quote(sku: str, fail: bool) -> dict[str, object]:
    """A price for ``sku``; raises :class:`UpstreamError` when ``fail`` is set."""
    await anyio.sleep(0.01)  # a network round trip
    if fail:
        raise UpstreamError(f"pricing service failed for {sku!r} (simulated with ?fail=1)")
    return {"sku": sku, "price_cents": 1999 + 100 * (len(sku) % 5), "currency": "EUR"}
