"""Views (sync and async twins) and a fake auth middleware for the middleware tests."""

from __future__ import annotations

import asyncio
import os
import time
from types import SimpleNamespace
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from goscope_redis import current_scope
from goscope_redis_django import connections as conn
from goscope_redis_django.conf import get_config
from goscope_redis_django.decorators import idempotency_exempt, idempotency_key, locked


class FakeAuthMiddleware:
    """``X-User: 7`` authenticates as user 7 (``request.user`` and ``request.auser()``).

    It also stamps ``X-Worker`` (the serving process) on every response, replays included.
    """

    sync_capable = async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        self._authenticate(request)
        if self.is_async:
            return self._acall(request)
        return _stamp(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> Any:
        return _stamp(await self.get_response(request))

    @staticmethod
    def _authenticate(request: HttpRequest) -> None:
        pk = request.headers.get("X-User")
        user = SimpleNamespace(is_authenticated=pk is not None, pk=pk)
        request.user = user  # type: ignore[attr-defined]

        async def auser() -> Any:
            return user

        request.auser = auser  # type: ignore[attr-defined]


def _stamp(response: Any) -> Any:
    response["X-Worker"] = str(os.getpid())
    return response


def _count(name: str) -> int:
    config = get_config()
    return int(conn.sync_client(config.client).incr(f"{config.prefix}test-hits:{name}"))


def _result(request: HttpRequest, name: str) -> HttpResponse:
    hits = _count(name)
    response = JsonResponse(
        {"hits": hits, "pid": os.getpid(), "body": request.body.decode(), "name": name},
        status=201,
    )
    response["X-Custom"] = "yes"
    response.set_cookie("seen", "1", httponly=True)
    return response


def charge(request: HttpRequest) -> HttpResponse:
    delay = float(request.GET.get("sleep", "0"))
    if delay:
        time.sleep(delay)
    return _result(request, "charge")


async def acharge(request: HttpRequest) -> HttpResponse:
    delay = float(request.GET.get("sleep", "0"))
    if delay:
        await asyncio.sleep(delay)
    return _result(request, "acharge")


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


async def aplain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def fail(request: HttpRequest) -> HttpResponse:
    _count("fail")
    raise RuntimeError("handler failed")


def unavailable(request: HttpRequest) -> HttpResponse:
    _count("unavailable")
    return JsonResponse({"error": "try later"}, status=503)


def stream(request: HttpRequest) -> StreamingHttpResponse:
    _count("stream")
    return StreamingHttpResponse(iter([b"a", b"b"]))


@idempotency_exempt
def exempt(request: HttpRequest) -> HttpResponse:
    return _result(request, "exempt")


@idempotency_key(required=True)
def required(request: HttpRequest) -> HttpResponse:
    return _result(request, "required")


@idempotency_key(required=True)
async def arequired(request: HttpRequest) -> HttpResponse:
    return _result(request, "arequired")


def scope_info(request: HttpRequest) -> HttpResponse:
    s = request.goscope  # type: ignore[attr-defined]
    with s.lock("res:sync", ttl=10_000) as handle:
        token = handle.fencing_token
    lock = s.lock("res:held", ttl=10_000)  # left held: the scope must release it
    lock.__enter__()
    return JsonResponse(
        {
            "kind": type(s).__name__,
            "current": current_scope() is s,
            "token": token,
            "request_scope": type(getattr(request, "scope", None)).__name__,
        }
    )


async def ascope_info(request: HttpRequest) -> HttpResponse:
    s = request.goscope  # type: ignore[attr-defined]
    async with s.lock("res:async", ttl=10_000) as handle:
        token = handle.fencing_token
    lock = s.lock("res:held", ttl=10_000)
    await lock.__aenter__()
    return JsonResponse(
        {
            "kind": type(s).__name__,
            "current": current_scope() is s,
            "token": token,
            "request_scope": type(getattr(request, "scope", None)).__name__,
            "asgi_type": request.scope.get("type") if isinstance(request.scope, dict) else None,  # type: ignore[attr-defined]
        }
    )


@locked("orders:{order_id}", timeout=10, blocking_timeout=0)
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    delay = float(request.GET.get("sleep", "0"))
    time.sleep(delay)
    return JsonResponse({"order": order_id, "token": request.goscope_lock.fencing_token})  # type: ignore[attr-defined]


@locked("orders:{order_id}", timeout=10, blocking_timeout=0)
async def aorder(request: HttpRequest, order_id: int) -> HttpResponse:
    await asyncio.sleep(float(request.GET.get("sleep", "0")))
    return JsonResponse({"order": order_id, "token": request.goscope_lock.fencing_token})  # type: ignore[attr-defined]
