"""``GET /quote`` through the request scope's shared circuit breaker (``request.goscope``)."""

from __future__ import annotations

import math

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from example_projects.django_shop.replies import flag, reply
from example_projects.shopkit.settings import BREAKER, BREAKER_FAILURES, BREAKER_RESET_MS
from example_projects.shopkit.upstream import UpstreamError, fetch_quote
from goscope_redis import CircuitOpenError


@require_GET
async def quote(request: HttpRequest) -> JsonResponse:
    """A price: 200, or 502 when upstream failed, or 503 when the breaker refused."""
    scope = request.goscope  # type: ignore[attr-defined]
    breaker = scope.circuit_breaker(
        BREAKER, failure_threshold=BREAKER_FAILURES, reset_timeout=BREAKER_RESET_MS
    )
    headers: dict[str, str] = {}
    try:
        quoted = await breaker.call(
            fetch_quote, request.GET.get("sku", "mug"), flag(request, "fail")
        )
        body: dict[str, object] = {"outcome": "ok", "quote": quoted}
        status = 200
    except UpstreamError as exc:
        body, status = {"outcome": "upstream-failed", "error": str(exc)}, 502
    except CircuitOpenError as exc:
        body, status = {"outcome": "refused", "retry_after_ms": exc.retry_after}, 503
        headers["Retry_After"] = str(max(1, math.ceil(exc.retry_after / 1000)))
    state = await scope.persistence.get_state(BREAKER)
    body["breaker"] = (
        {"state": "closed", "failure_count": 0}
        if state is None
        else {"state": state.state, "failure_count": state.failure_count}
    )
    return reply(body, status, **headers)
