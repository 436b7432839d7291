"""The ``Idempotency-Key`` flow of one Django request, sync and async.

Every rule (key validation, fingerprint, principal scoping, which responses are stored, the
problem responses) lives in :mod:`goscope_redis.http_idempotency`, shared with the Starlette
middleware; this module moves Django's requests and responses through it. A request without a
key costs no round trip; a keyed one costs one to replay (``begin``) and two to run (``begin``,
then ``complete`` or ``abandon``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import redis
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, resolve

from goscope_redis import AsyncRedisIdempotencyAdapter, RedisAdapter, RedisIdempotencyAdapter
from goscope_redis.claims import ClaimLease, keep_alive
from goscope_redis.errors import SerializationError
from goscope_redis.http_idempotency import (
    STORED_HEADER,
    Problem,
    body_too_large,
    claim_response,
    fingerprint,
    read_key,
    scoped_key,
    should_store,
)
from goscope_redis.idempotency_records import Claim
from goscope_redis_django._http import capture, to_django
from goscope_redis_django.conf import IdempotencyPolicy, get_config

logger = logging.getLogger("goscope_redis")

VIEW_FLAG = "goscope_idempotency"
"""The attribute the per-view decorators set: ``"exempt"`` or ``{"required": bool}``."""
HANDLED = "_goscope_idempotency_handled"
"""Set on a request once the middleware applied the policy (so a decorator does not again)."""


@dataclass(frozen=True, slots=True)
class Keyed:
    """A validated key and the request's fingerprint."""

    key: str
    fingerprint: str


def view_policy(request: HttpRequest, flag: Any = None) -> IdempotencyPolicy | None:
    """The policy for ``request`` (``None``: pass through), after its view's decorator flag."""
    policy = get_config().idempotency
    if request.method not in policy.methods:
        return None
    setattr(request, HANDLED, True)
    if flag is None:
        flag = _resolved_flag(request)
    if flag == "exempt":
        return None
    if isinstance(flag, dict) and "required" in flag:
        policy = replace(policy, required=bool(flag["required"]))
    return policy


def _resolved_flag(request: HttpRequest) -> Any:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    return getattr(match.func, VIEW_FLAG, None)


def prepare(request: HttpRequest, policy: IdempotencyPolicy) -> Keyed | HttpResponse | None:
    """The key and fingerprint; a 400/413 problem response; or ``None`` (no key: just run)."""
    raw = request.META.get(policy.meta_key)
    key = read_key([] if raw is None else [raw], header=policy.header, required=policy.required)
    if key is None:
        return None
    if isinstance(key, Problem):
        return to_django(key.response())
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > policy.max_body_bytes:
        return to_django(body_too_large(policy.max_body_bytes, policy.header).response())
    body = request.body
    if len(body) > policy.max_body_bytes:
        return to_django(body_too_large(policy.max_body_bytes, policy.header).response())
    query = request.META.get("QUERY_STRING", "")
    content_type = request.META.get("CONTENT_TYPE")
    digest = fingerprint(request.method or "", request.path, query, body, content_type)
    return Keyed(key, digest)


def _user_principal(user: Any) -> str | None:
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return None


def principal(request: HttpRequest, policy: IdempotencyPolicy) -> str | None:
    """Whom the key belongs to: ``KEY_FUNC(request)``, else the authenticated user."""
    if policy.key_func is not None:
        found = policy.key_func(request)
        if inspect.isawaitable(found):
            raise TypeError("IDEMPOTENCY['KEY_FUNC'] returned an awaitable under WSGI")
        return None if found is None else str(found)
    return _user_principal(getattr(request, "user", None))


async def aprincipal(request: HttpRequest, policy: IdempotencyPolicy) -> str | None:
    """:func:`principal` under ASGI: ``request.auser()`` never touches the DB synchronously."""
    if policy.key_func is not None:
        found = policy.key_func(request)
        if inspect.isawaitable(found):
            found = await found
        return None if found is None else str(found)
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else getattr(request, "user", None)
    return _user_principal(user)


def _storable(response: HttpResponseBase, policy: IdempotencyPolicy) -> bool:
    if response.streaming or not isinstance(response, HttpResponse):
        return False
    return should_store(
        response.status_code,
        len(response.content),
        store_server_errors=policy.store_server_errors,
        max_body_bytes=policy.max_body_bytes,
    )


def _not_stored(response: HttpResponseBase) -> HttpResponseBase:
    response[STORED_HEADER] = "false"
    return response


_STORE_ERRORS = (redis.RedisError, OSError, SerializationError)


def handle(
    request: HttpRequest,
    policy: IdempotencyPolicy,
    call: Callable[[HttpRequest], HttpResponseBase],
    adapter: RedisAdapter,
) -> HttpResponseBase:
    """Replay, refuse (400/409/413/422) or run ``call`` once and store its response (WSGI)."""
    keyed = prepare(request, policy)
    if not isinstance(keyed, Keyed):
        return call(request) if keyed is None else keyed
    store = adapter.idempotency
    record_key = scoped_key(keyed.key, principal(request, policy))
    claim = store.begin(record_key, fingerprint=keyed.fingerprint, lease=policy.lease_ms)
    early = claim_response(claim, policy.header)
    if early is not None:
        return to_django(early)
    # A view slower than the lease keeps its claim (renewed every third of it on the adapter's
    # renewal thread) instead of letting a duplicate run the view again.
    lease = adapter._renewer.add(ClaimLease(store, claim, policy.lease_ms), None)
    try:
        try:
            response = call(request)
        finally:
            lease.cancel()  # before complete/abandon, so a renewal never races them
    except BaseException:
        _abandon(store, claim)
        raise
    if _storable(response, policy) and _complete(store, claim, response, policy):
        return response
    _abandon(store, claim)
    return _not_stored(response)


async def ahandle(
    request: HttpRequest,
    policy: IdempotencyPolicy,
    call: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    store: AsyncRedisIdempotencyAdapter,
) -> HttpResponseBase:
    """:func:`handle` under ASGI (``complete`` and ``abandon`` survive cancellation)."""
    keyed = prepare(request, policy)
    if not isinstance(keyed, Keyed):
        return await call(request) if keyed is None else keyed
    record_key = scoped_key(keyed.key, await aprincipal(request, policy))
    claim = await store.begin(record_key, fingerprint=keyed.fingerprint, lease=policy.lease_ms)
    early = claim_response(claim, policy.header)
    if early is not None:
        return to_django(early)
    heartbeat = asyncio.get_running_loop().create_task(
        keep_alive(store, claim, policy.lease_ms)
    )  # a view slower than the lease keeps its claim
    try:
        try:
            response = await call(request)
        finally:
            heartbeat.cancel()  # before complete/abandon, so a renewal never races them
    except BaseException:
        await _aabandon(store, claim)
        raise
    if _storable(response, policy) and await _acomplete(store, claim, response, policy):
        return response
    await _aabandon(store, claim)
    return _not_stored(response)


def _complete(
    store: RedisIdempotencyAdapter, claim: Claim, response: Any, policy: IdempotencyPolicy
) -> bool:
    try:
        return store.complete(claim, capture(response).to_value(), policy.ttl_ms)
    except _STORE_ERRORS as exc:
        _log_store_failure(claim, exc)
        return False


async def _acomplete(
    store: AsyncRedisIdempotencyAdapter, claim: Claim, response: Any, policy: IdempotencyPolicy
) -> bool:
    try:
        return await store.complete(claim, capture(response).to_value(), policy.ttl_ms)
    except _STORE_ERRORS as exc:
        _log_store_failure(claim, exc)
        return False


def _log_store_failure(claim: Claim, exc: BaseException) -> None:
    # The handler ran: the client still gets its response, marked as not stored.
    logger.warning(
        "goscope_redis: could not store the response of idempotency key %r: %s", claim.key, exc
    )


def _abandon(store: RedisIdempotencyAdapter, claim: Claim) -> None:
    try:
        store.abandon(claim)
    except (redis.RedisError, OSError) as exc:
        logger.warning("goscope_redis: could not release idempotency key %r: %s", claim.key, exc)


async def _aabandon(store: AsyncRedisIdempotencyAdapter, claim: Claim) -> None:
    try:
        await store.abandon(claim)
    except (redis.RedisError, OSError) as exc:
        logger.warning("goscope_redis: could not release idempotency key %r: %s", claim.key, exc)
