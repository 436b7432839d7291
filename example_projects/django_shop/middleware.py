"""Tag every response with the pid of the worker process that served it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from example_projects.shopkit.settings import worker_pid


class WorkerPidMiddleware:
    """Sets ``X-Worker-Pid`` (replacing a replayed response's, whose body keeps the original)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return _tagged(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        return _tagged(await self.get_response(request))


def _tagged(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Worker-Pid"] = str(worker_pid())
    return response
