"""The ``Idempotency-Key`` header through the middleware, on Starlette and on FastAPI."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from goscope_redis import AsyncRedisAdapter
from goscope_redis.http_idempotency import scoped_key
from goscope_redis.keys import KeySpace
from goscope_redis.testing import free_port
from goscope_redis_starlette import IdempotencyConfig
from tests.starlette.apps import Probe, build
from tests.starlette.conftest import AppFactory, client_for

pytestmark = pytest.mark.anyio

KEY = {"Idempotency-Key": "order-1"}


def record_key(prefix: str, key: str, principal: str | None = None) -> str:
    return KeySpace(prefix, "idempotency").key(scoped_key(key, principal))


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    assert doc["type"].endswith(slug)
    assert doc["title"] and doc["detail"]
    return doc


async def test_first_request_runs_and_retry_replays_status_headers_and_body(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    first = await client.post("/orders?b=2&a=1", json={"sku": "x", "qty": 2}, headers=KEY)
    again = await client.post("/orders?a=1&b=2", json={"qty": 2, "sku": "x"}, headers=KEY)

    assert probe.calls == {"orders": 1}
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["x-order"] == first.headers["x-order"] == "1"
    assert again.headers["set-cookie"] == first.headers["set-cookie"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def test_reused_key_with_different_body_gets_422_and_does_not_run(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    await client.post("/orders", json={"qty": 1}, headers=KEY)
    other = await client.post("/orders", json={"qty": 2}, headers=KEY)
    assert_problem(other, 422, "idempotency-key-reused")
    assert probe.calls == {"orders": 1}


@pytest.mark.parametrize(
    ("path", "method"), [("/orders?page=2", "POST"), ("/echo", "POST"), ("/orders", "PATCH")]
)
async def test_reused_key_with_different_query_path_or_method_gets_422(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    await client.post("/orders", json={"qty": 1}, headers=KEY)
    other = await client.request(method, path, json={"qty": 1}, headers=KEY)
    assert_problem(other, 422, "idempotency-key-reused")


async def test_duplicate_while_first_runs_gets_409_with_retry_after(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    results: dict[str, httpx.Response] = {}

    async def first() -> None:
        results["first"] = await client.post("/slow", content=b"x", headers=KEY)

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await probe.started.wait()
        duplicate = await client.post("/slow", content=b"x", headers=KEY)
        probe.release.set()

    assert_problem(duplicate, 409, "idempotency-request-in-progress")
    assert duplicate.headers["retry-after"] == "1"
    assert results["first"].status_code == 201
    replay = await client.post("/slow", content=b"x", headers=KEY)
    assert replay.headers["idempotent-replayed"] == "true"
    assert probe.calls == {"slow": 1}


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([""], "empty"),
        (["   "], "empty"),
        (['""'], "empty"),
        (["k" * 256], "longer than 255"),
        (["bad\x01key"], "control"),
        (["a", "b"], "exactly one"),
        (['"unterminated'], "quoted"),
    ],
)
async def test_malformed_key_gets_400_without_running(
    client: httpx.AsyncClient, probe: Probe, values: list[str], reason: str
) -> None:
    headers = [("Idempotency-Key", v) for v in values]
    response = await client.post("/orders", json={}, headers=headers)
    doc = assert_problem(response, 400, "idempotency-key-invalid")
    assert reason in doc["detail"]
    assert probe.calls == {}


async def test_key_of_255_characters_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={}, headers={"Idempotency-Key": "k" * 255})
    assert response.status_code == 201


async def test_missing_key_when_required_gets_400(make_app: AppFactory, probe: Probe) -> None:
    async with client_for(make_app(required=True)) as client:
        response = await client.post("/orders", json={})
        ok = await client.post("/orders", json={}, headers=KEY)
        unkeyed_get = await client.get("/whoami")
    assert_problem(response, 400, "idempotency-key-missing")
    assert ok.status_code == 201
    assert unkeyed_get.status_code == 200  # GET is not a covered method
    assert probe.calls == {"orders": 1, "whoami": 1}


async def test_request_without_key_runs_every_time(client: httpx.AsyncClient, probe: Probe) -> None:
    for _ in range(3):
        assert (await client.post("/orders", json={})).status_code == 201
    assert probe.calls == {"orders": 3}


async def test_methods_not_configured_ignore_the_key(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    for _ in range(2):
        assert (await client.put("/orders", json={}, headers=KEY)).status_code == 201
    assert probe.calls == {"orders": 2}


async def test_custom_header_name_is_used(make_app: AppFactory, probe: Probe) -> None:
    async with client_for(make_app(header="X-Request-Id")) as client:
        for _ in range(2):
            await client.post("/orders", json={}, headers={"X-Request-Id": "r1"})
    assert probe.calls == {"orders": 1}


async def test_key_func_scopes_keys_per_principal(
    make_app: AppFactory, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    def principal(request: Any) -> str | None:
        return request.headers.get("x-user")

    async with client_for(make_app(key_func=principal)) as client:
        alice = await client.post("/orders", json={}, headers={**KEY, "X-User": "alice"})
        bob = await client.post("/orders", json={}, headers={**KEY, "X-User": "bob"})
        alice_again = await client.post("/orders", json={}, headers={**KEY, "X-User": "alice"})
        anonymous = await client.post("/orders", json={}, headers=KEY)

    assert probe.calls == {"orders": 3}
    assert (alice.json()["n"], bob.json()["n"], anonymous.json()["n"]) == (1, 2, 3)
    assert "idempotent-replayed" not in bob.headers
    assert alice_again.headers["idempotent-replayed"] == "true"
    assert alice_again.json() == alice.json()
    assert raw.exists(record_key(prefix, "order-1", "alice"))
    assert raw.exists(record_key(prefix, "order-1", "bob"))
    assert raw.exists(record_key(prefix, "order-1"))


async def test_async_key_func_is_awaited(make_app: AppFactory, probe: Probe) -> None:
    async def principal(request: Any) -> int:
        return int(request.headers["x-user-id"])

    async with client_for(make_app(key_func=principal)) as client:
        await client.post("/orders", json={}, headers={**KEY, "X-User-Id": "7"})
        await client.post("/orders", json={}, headers={**KEY, "X-User-Id": "8"})
    assert probe.calls == {"orders": 2}


async def test_handler_that_raises_releases_the_key_and_retry_runs_again(
    make_app: AppFactory, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    async with client_for(make_app(), raise_app_exceptions=False) as client:
        first = await client.post("/boom", json={}, headers=KEY)
        assert not raw.exists(record_key(prefix, "order-1"))
        second = await client.post("/boom", json={}, headers=KEY)
    assert first.status_code == second.status_code == 500
    assert probe.calls == {"boom": 2}


async def test_handler_exception_propagates_unwrapped(make_app: AppFactory) -> None:
    async with client_for(make_app()) as client:
        with pytest.raises(RuntimeError, match="handler failed"):
            await client.post("/boom", json={}, headers=KEY)
        with pytest.raises(RuntimeError, match="handler failed"):
            await client.post("/boom", json={})


@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_is_not_stored_and_retry_runs_again(
    client: httpx.AsyncClient, probe: Probe, raw: redis.Redis, prefix: str, status: int
) -> None:
    first = await client.post(f"/server-error?s={status}", content=b"", headers=KEY)
    assert not raw.exists(record_key(prefix, "order-1"))
    second = await client.post(f"/server-error?s={status}", content=b"", headers=KEY)
    assert (first.status_code, first.text, second.text) == (status, "failure 1", "failure 2")
    assert first.headers["idempotency-stored"] == "false"
    assert probe.calls == {"server_error": 2}


@pytest.mark.parametrize("status", [429, 408])
async def test_transient_refusal_is_not_stored(
    client: httpx.AsyncClient, probe: Probe, status: int
) -> None:
    for _ in range(2):
        response = await client.post(f"/server-error?s={status}", content=b"", headers=KEY)
        assert response.headers["idempotency-stored"] == "false"
    assert probe.calls == {"server_error": 2}


async def test_client_error_is_stored_and_replayed(client: httpx.AsyncClient, probe: Probe) -> None:
    first = await client.post("/server-error?s=404", content=b"", headers=KEY)
    second = await client.post("/server-error?s=404", content=b"", headers=KEY)
    assert first.status_code == second.status_code == 404
    assert second.text == "failure 1"
    assert second.headers["idempotent-replayed"] == "true"


async def test_server_error_is_replayed_when_store_server_errors(
    make_app: AppFactory, probe: Probe
) -> None:
    async with client_for(make_app(store_server_errors=True)) as client:
        first = await client.post("/server-error", content=b"", headers=KEY)
        second = await client.post("/server-error", content=b"", headers=KEY)
    assert first.status_code == second.status_code == 500
    assert second.text == "failure 1"
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotency-stored" not in first.headers


async def test_streamed_response_passes_through_unstored(
    client: httpx.AsyncClient, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    first = await client.post("/stream", content=b"", headers=KEY)
    assert not raw.exists(record_key(prefix, "order-1"))
    second = await client.post("/stream", content=b"", headers=KEY)
    assert first.text == "chunk 0 of run 1;chunk 1 of run 1;chunk 2 of run 1;"
    assert second.text.endswith("chunk 2 of run 2;")
    assert first.headers["idempotency-stored"] == "false"
    assert "idempotent-replayed" not in second.headers


async def test_oversized_response_passes_through_unstored(
    make_app: AppFactory, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    async with client_for(make_app(max_body_bytes=1000)) as client:
        small = await client.post("/big?size=1000", content=b"", headers={"Idempotency-Key": "s"})
        large = await client.post("/big?size=1001", content=b"", headers=KEY)
        again = await client.post("/big?size=1001", content=b"", headers=KEY)
    assert "idempotency-stored" not in small.headers
    assert raw.exists(record_key(prefix, "s"))
    assert len(large.content) == 1001
    assert large.headers["idempotency-stored"] == "false"
    assert again.text == "3" * 1001
    assert not raw.exists(record_key(prefix, "order-1"))


async def test_request_body_reaches_the_handler_intact(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    payload = bytes(range(256)) * 40

    async def chunked() -> Any:
        for i in range(0, len(payload), 1000):
            yield payload[i : i + 1000]

    response = await client.post("/echo", content=chunked(), headers=KEY)
    replay = await client.post("/echo", content=payload, headers=KEY)
    assert probe.bodies == [payload]
    assert response.content == replay.content == payload
    assert replay.headers["idempotent-replayed"] == "true"


async def test_oversized_request_body_with_key_gets_413(make_app: AppFactory, probe: Probe) -> None:
    async with client_for(make_app(max_body_bytes=100)) as client:
        declared = await client.post("/echo", content=b"x" * 101, headers=KEY)

        async def undeclared() -> Any:
            for _ in range(3):
                yield b"y" * 40

        streamed = await client.post("/echo", content=undeclared(), headers=KEY)
        unkeyed = await client.post("/echo", content=b"z" * 500)
    assert_problem(declared, 413, "idempotency-body-too-large")
    assert_problem(streamed, 413, "idempotency-body-too-large")
    assert unkeyed.content == b"z" * 500  # the limit applies to keyed requests only
    assert probe.calls == {"echo": 1}


async def test_completed_record_expires_after_ttl(
    make_app: AppFactory, probe: Probe, raw: redis.Redis, prefix: str
) -> None:
    async with client_for(make_app(ttl=5_000)) as client:
        await client.post("/orders", json={}, headers=KEY)
    pttl = raw.pttl(record_key(prefix, "order-1"))
    assert 0 < pttl <= 5_000


async def test_unreadable_record_gets_500_without_running(
    client: httpx.AsyncClient, probe: Probe, aadapter: Any
) -> None:
    await aadapter.idempotency.set(scoped_key("order-1"), {"not": "an envelope"})
    response = await client.post("/orders", json={}, headers=KEY)
    assert_problem(response, 500, "idempotency-record-unreadable")
    assert probe.calls == {}


async def test_stored_envelope_is_json_with_base64_body(
    client: httpx.AsyncClient, aadapter: Any
) -> None:
    await client.post("/orders", json={"a": 1}, headers=KEY)
    record = await aadapter.idempotency.get(scoped_key("order-1"))
    assert record is not None and not record.is_error
    envelope = record.value
    assert envelope["status"] == 201
    assert ["x-order", "1"] in envelope["headers"]
    json.dumps(envelope)  # plain JSON data


async def test_unreachable_redis_fails_closed_with_503_and_unkeyed_requests_still_run(
    framework: str, probe: Probe
) -> None:
    no_retry = Retry(NoBackoff(), 0)
    dead = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=1, retry=no_retry)
    app = build(framework, probe, AsyncRedisAdapter(dead, "x:"), IdempotencyConfig())
    async with client_for(app) as client:
        keyed = await client.post("/orders", json={}, headers=KEY)
        unkeyed = await client.post("/orders", json={})
    await dead.aclose()
    assert_problem(keyed, 503, "idempotency-store-unavailable")
    assert keyed.headers["retry-after"] == "1"
    assert unkeyed.status_code == 201
    assert probe.calls == {"orders": 1}
