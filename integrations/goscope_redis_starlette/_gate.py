"""``IdempotencyGate``: the ``Idempotency-Key`` flow of one request, over ASGI.

The rules (key validation, fingerprint, principal scoping, which responses are stored, the
problem responses) live in :mod:`goscope_redis.http_idempotency`; this module moves the bytes.
A keyed request costs one round trip to replay (``begin``) and two to run (``begin`` and
``complete``, or ``abandon``); a request without a key costs none.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

import anyio
import redis
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from goscope_redis.claims import keep_alive
from goscope_redis.errors import SerializationError
from goscope_redis.http_idempotency import (
    HTTPResponse,
    Problem,
    body_too_large,
    claim_response,
    fingerprint,
    read_key,
    scoped_key,
    store_unavailable,
)
from goscope_redis.idempotency import AsyncRedisIdempotencyAdapter
from goscope_redis.idempotency_records import Claim
from goscope_redis_starlette._asgi import HEADER_NAME, header_value, header_values, send_response
from goscope_redis_starlette._body import BodyFault, read_body, replaying
from goscope_redis_starlette._recorder import ResponseRecorder
from goscope_redis_starlette.config import IdempotencyConfig

logger = logging.getLogger("goscope_redis")

Runner = Callable[[Scope, Receive, Send], Awaitable[None]]
"""Runs the app for one request (inside the request's scope)."""


class IdempotencyGate:
    """Applies an :class:`IdempotencyConfig` to the HTTP requests of its methods."""

    __slots__ = ("_config", "_header", "_required", "_store", "methods")

    def __init__(self, store: AsyncRedisIdempotencyAdapter, config: IdempotencyConfig) -> None:
        self._store = store
        self._config = config
        self._header = config.header_bytes
        self._required = config.required
        self.methods = frozenset(config.methods)

    def applies(self, scope: Scope) -> bool:
        """Whether the gate has anything to do with this request (it costs nothing otherwise).

        True for a covered method that carries the header, or lacks it when it is required.
        """
        if scope["method"] not in self.methods:
            return False
        if self._required:
            return True
        # The membership test runs in C (no Python loop): this is on every request's path.
        return self._header in map(HEADER_NAME, scope["headers"])

    async def handle(self, scope: Scope, receive: Receive, send: Send, run: Runner) -> None:
        """Validate the key, then replay, refuse (400/409/413/422/503) or run the request once."""
        config = self._config
        values = header_values(scope, config.header_bytes)
        key = read_key(values, header=config.header, required=config.required)
        if key is None:
            await run(scope, receive, send)
        elif isinstance(key, Problem):
            await send_response(send, key.response())
        else:
            await self._handle_keyed(key, scope, receive, send, run)

    async def _handle_keyed(
        self, key: str, scope: Scope, receive: Receive, send: Send, run: Runner
    ) -> None:
        config = self._config
        body = await read_body(scope, receive, config.max_body_bytes)
        if body is BodyFault.DISCONNECTED:
            return  # nobody to answer, nothing claimed
        if body is BodyFault.TOO_LARGE:
            problem = body_too_large(config.max_body_bytes, config.header)
            await send_response(send, problem.response())
            return
        try:
            claim = await self._begin(scope, key, body)
        except (redis.RedisError, OSError) as exc:
            # Fail closed: without the claim the handler must not run.
            logger.warning("goscope_redis: idempotency key check failed, answering 503: %s", exc)
            await send_response(send, store_unavailable(config.header).response())
            return
        early = claim_response(claim, config.header)
        if early is not None:
            await send_response(send, early)
            return
        await self._run_claimed(claim, scope, replaying(body, receive), send, run)

    async def _begin(self, scope: Scope, key: str, body: bytes) -> Claim:
        principal = await self._principal(scope)
        content_type = header_value(scope, b"content-type")
        query = scope.get("query_string", b"")
        digest = fingerprint(scope["method"], scope["path"], query, body, content_type)
        record_key = scoped_key(key, principal)
        return await self._store.begin(record_key, fingerprint=digest, lease=self._config.lease)

    async def _principal(self, scope: Scope) -> str | None:
        key_func = self._config.key_func
        if key_func is None:
            return None
        principal = key_func(Request(scope))
        if inspect.isawaitable(principal):
            principal = await principal
        return None if principal is None else str(principal)

    async def _run_claimed(
        self, claim: Claim, scope: Scope, receive: Receive, send: Send, run: Runner
    ) -> None:
        # A handler slower than the lease keeps its claim instead of letting a duplicate run.
        heartbeat = asyncio.get_running_loop().create_task(
            keep_alive(self._store, claim, self._config.lease)
        )

        async def store(response: HTTPResponse) -> bool:
            heartbeat.cancel()  # before complete(), so a renewal never races it
            return await self._complete(claim, response)

        config = self._config
        recorder = ResponseRecorder(
            send,
            store,
            store_server_errors=config.store_server_errors,
            max_body_bytes=config.max_body_bytes,
        )
        try:
            await run(scope, receive, recorder.send)
        finally:
            heartbeat.cancel()
            if not recorder.stored:
                # Shielded: a cancelled request must still free its key for the retry.
                with anyio.CancelScope(shield=True):
                    await self._abandon(claim)

    async def _complete(self, claim: Claim, response: HTTPResponse) -> bool:
        try:
            return await self._store.complete(claim, response.to_value(), self._config.ttl)
        except (redis.RedisError, OSError, SerializationError) as exc:
            # The handler ran: the client still gets its response, marked as not stored.
            logger.warning(
                "goscope_redis: could not store the response of idempotency key %r: %s",
                claim.key,
                exc,
            )
            return False

    async def _abandon(self, claim: Claim) -> None:
        try:
            await self._store.abandon(claim)
        except (redis.RedisError, OSError) as exc:
            # The lease still frees the key when it runs out.
            logger.warning(
                "goscope_redis: could not release idempotency key %r: %s", claim.key, exc
            )
