"""Small request/response helpers shared by the views."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse

from example_projects.shopkit.settings import worker_pid


def reply(body: dict[str, Any], status: int = 200, **headers: str) -> JsonResponse:
    """JSON with the serving worker's ``pid`` field."""
    response = JsonResponse({**body, "pid": worker_pid()}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body (``{}`` when empty); ``ValueError`` if it is not JSON."""
    if not request.body:
        return {}
    return json.loads(request.body)


def int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``low..high``; ``ValueError`` names it otherwise."""
    raw = request.GET.get(name)
    value = default if raw is None else int(raw) if raw.lstrip("-").isdigit() else None
    if value is None or not low <= value <= high:
        raise ValueError(f"query parameter {name!r} must be an int in {low}..{high}, got {raw!r}")
    return value


def flag(request: HttpRequest, name: str) -> bool:
    """A boolean query flag (``?fail=1``, ``?fail=true``)."""
    return request.GET.get(name, "").lower() in ("1", "true", "yes", "on")
