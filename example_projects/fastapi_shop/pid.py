"""Tag every response with the pid of the worker process that served it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_projects.shopkit.settings import worker_pid

HEADER = b"x-worker-pid"


class WorkerPidMiddleware:
    """Outermost middleware: sets ``X-Worker-Pid``, replacing the one a replayed response
    carries, so a replay shows the worker that served it (its body keeps the original pid)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pid = str(worker_pid()).encode()

        async def tagged(message: Message) -> None:
            """Replace the pid header on the response start."""
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, pid)]}
            await send(message)

        await self.app(scope, receive, tagged)
