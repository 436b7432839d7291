"""ScopeMiddleware and IdempotencyMiddleware over WSGI (``Client``) and ASGI (``AsyncClient``)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import AsyncClient, Client

from goscope_redis.http_idempotency import PROBLEM_CONTENT_TYPE
from goscope_redis_django.connections import REGISTRY

BODY = {"amount": 10, "currency": "EUR"}


class Http:
    """One face: WSGI through ``Client``, or ASGI through ``AsyncClient`` on the test's loop.

    ``view("charge")`` is the sync view under WSGI and its async twin under ASGI.
    """

    def __init__(self, kind: str, loop: asyncio.AbstractEventLoop) -> None:
        self.kind = kind
        self._loop = loop
        self._sync = Client(raise_request_exception=False)
        self._async = AsyncClient(raise_request_exception=False)

    def view(self, name: str) -> str:
        return f"/a{name}" if self.kind == "asgi" else f"/{name}"

    def request(self, method: str, path: str, body: Any = BODY, **headers: str) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        kwargs = {"data": data, "content_type": "application/json", "headers": headers}
        if self.kind == "wsgi":
            return getattr(self._sync, method)(path, **kwargs)
        return self._loop.run_until_complete(getattr(self._async, method)(path, **kwargs))

    def post(self, path: str, body: Any = BODY, **headers: str) -> Any:
        return self.request("post", path, body, **headers)

    def close(self) -> None:
        self._loop.run_until_complete(REGISTRY.aclose_loop())


@pytest.fixture(params=["wsgi", "asgi"])
def http(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[Http]:
    face = Http(str(request.param), loop)
    yield face
    face.close()


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def hits(raw: redis.Redis, prefix: str, name: str) -> int:
    return int(raw.get(f"{prefix}test-hits:{name}") or 0)


def records(raw: redis.Redis, prefix: str) -> list[bytes]:
    return list(raw.scan_iter(match=f"{prefix}idempotency:*"))


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    return json.loads(response.content)  # type: ignore[no-any-return]


# --- ScopeMiddleware -------------------------------------------------------------------------


def test_scope_is_bound_as_request_goscope_and_its_locks_released(
    http: Http, raw: redis.Redis, prefix: str
) -> None:
    response = http.request("get", http.view("scope"), body="")
    doc = json.loads(response.content)
    expected = {"wsgi": ("Scope", "NoneType"), "asgi": ("AsyncScope", "dict")}[http.kind]
    assert (doc["kind"], doc["request_scope"]) == expected  # Django's request.scope untouched
    assert doc["current"] is True
    assert doc["token"] >= 1
    if http.kind == "asgi":
        assert doc["asgi_type"] == "http"
    assert raw.exists(f"{prefix}lock:{{res:held}}") == 0  # released when the response was ready


def test_a_request_without_a_key_costs_no_round_trip(http: Http, raw: redis.Redis) -> None:
    http.post(http.view("plain"), key("warm"))  # pools and scripts are warm
    before = int(raw.info("stats")["total_reads_processed"])
    for _ in range(3):
        assert http.post(http.view("plain")).status_code == 200
    assert int(raw.info("stats")["total_reads_processed"]) - before - 1 == 0


# --- IdempotencyMiddleware ---------------------------------------------------------------------


def test_without_a_key_the_view_runs_every_time(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        assert http.post(http.view("charge")).status_code == 201
    assert hits(raw, prefix, http.view("charge").strip("/")) == 2
    assert records(raw, prefix) == []


def test_a_completed_request_is_replayed(http: Http, raw: redis.Redis, prefix: str) -> None:
    first = http.post(http.view("charge"), **key("pay-1"))
    again = http.post(http.view("charge"), **key("pay-1"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again["X-Custom"] == "yes"
    assert again["Content-Type"] == "application/json"
    assert again.cookies["seen"].value == "1"
    assert hits(raw, prefix, http.view("charge").strip("/")) == 1


def test_reordered_json_is_the_same_request(http: Http) -> None:
    http.post(http.view("charge"), '{"a": 1, "b": 2}', **key("k"))
    again = http.post(http.view("charge"), '{"b":2,"a":1}', **key("k"))
    assert again["Idempotent-Replayed"] == "true"


def test_same_key_with_another_body_is_422(http: Http) -> None:
    http.post(http.view("charge"), {"amount": 1}, **key("k"))
    response = http.post(http.view("charge"), {"amount": 2}, **key("k"))
    assert response.status_code == 422
    assert problem(response)["type"].endswith("idempotency-key-reused")


@pytest.mark.parametrize("bad", ["", "x" * 256, "tab\there"])
def test_malformed_key_is_400(http: Http, bad: str) -> None:
    response = http.post(http.view("charge"), **key(bad))
    assert response.status_code == 400
    assert problem(response)["status"] == 400


def test_required_setting_rejects_a_missing_key(http: Http, settings: Any) -> None:
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "IDEMPOTENCY": {"REQUIRED": True}}
    response = http.post(http.view("charge"))
    assert response.status_code == 400
    assert problem(response)["type"].endswith("idempotency-key-missing")


def test_idempotency_key_decorator_requires_the_header(http: Http) -> None:
    assert http.post(http.view("required")).status_code == 400
    assert http.post(http.view("required"), **key("r")).status_code == 201
    assert http.post(http.view("required"), **key("r"))["Idempotent-Replayed"] == "true"


def test_exempt_view_ignores_the_header(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        assert http.post("/exempt", **key("e")).status_code == 201
    assert hits(raw, prefix, "exempt") == 2
    assert records(raw, prefix) == []


def test_other_methods_pass_through(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        http.request("put", http.view("charge"), **key("p"))
    assert hits(raw, prefix, http.view("charge").strip("/")) == 2


def test_a_failing_handler_releases_the_key(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        assert http.post("/fail", **key("f")).status_code == 500
    assert hits(raw, prefix, "fail") == 2
    assert records(raw, prefix) == []


def test_server_errors_are_not_stored(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        response = http.post("/unavailable", **key("u"))
        assert response.status_code == 503
        assert response["Idempotency-Stored"] == "false"
    assert hits(raw, prefix, "unavailable") == 2


def test_server_errors_are_stored_when_configured(http: Http, settings: Any) -> None:
    policy = {"STORE_SERVER_ERRORS": True}
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "IDEMPOTENCY": policy}
    http.post("/unavailable", **key("u"))
    assert http.post("/unavailable", **key("u"))["Idempotent-Replayed"] == "true"


def test_streamed_responses_are_not_stored(http: Http, raw: redis.Redis, prefix: str) -> None:
    for _ in range(2):
        assert http.post("/stream", **key("s"))["Idempotency-Stored"] == "false"
    assert hits(raw, prefix, "stream") == 2


def test_keys_are_scoped_per_user(http: Http, raw: redis.Redis, prefix: str) -> None:
    view = http.view("charge")
    first = http.post(view, **key("same"), **{"X-User": "1"})
    other = http.post(view, **key("same"), **{"X-User": "2"})
    mine = http.post(view, **key("same"), **{"X-User": "1"})
    assert "Idempotent-Replayed" not in other
    assert mine["Idempotent-Replayed"] == "true"
    assert mine.content == first.content
    assert hits(raw, prefix, view.strip("/")) == 2


def test_body_over_the_limit_is_413(http: Http, settings: Any) -> None:
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "IDEMPOTENCY": {"MAX_BODY_BYTES": 10}}
    response = http.post(http.view("charge"), {"long": "x" * 50}, **key("big"))
    assert response.status_code == 413


def test_duplicate_while_running_is_409_with_retry_after_wsgi(
    raw: redis.Redis, prefix: str
) -> None:
    results: list[int] = []

    def slow() -> None:
        results.append(
            Client()
            .post("/charge?sleep=0.6", BODY, "application/json", **_meta("race"))
            .status_code
        )

    thread = threading.Thread(target=slow)
    thread.start()
    _wait_for_record(raw, prefix)
    busy = Client().post("/charge?sleep=0.6", BODY, "application/json", **_meta("race"))
    thread.join(10)
    assert busy.status_code == 409
    assert int(busy["Retry-After"]) >= 1
    assert problem(busy)["type"].endswith("idempotency-request-in-progress")
    assert results == [201]
    assert hits(raw, prefix, "charge") == 1


def _meta(value: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": value}


def _wait_for_record(raw: redis.Redis, prefix: str) -> None:
    import time

    deadline = time.monotonic() + 5
    while not records(raw, prefix):
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.anyio
async def test_duplicate_while_running_is_409_asgi(
    aclients: None, raw: redis.Redis, prefix: str
) -> None:
    client = AsyncClient()
    headers = {"Idempotency-Key": "race"}

    async def post() -> Any:
        return await client.post("/acharge?sleep=0.4", BODY, "application/json", headers=headers)

    first = asyncio.ensure_future(post())
    await asyncio.sleep(0.15)
    busy = await post()
    done = await first
    assert (done.status_code, busy.status_code) == (201, 409)
    assert hits(raw, prefix, "acharge") == 1


def test_decorator_works_without_the_middleware(http: Http, settings: Any) -> None:
    settings.MIDDLEWARE = ["tests.django.views.FakeAuthMiddleware"]
    assert http.post(http.view("required")).status_code == 400
    http.post(http.view("required"), **key("d"))
    assert http.post(http.view("required"), **key("d"))["Idempotent-Replayed"] == "true"


# --- @locked -------------------------------------------------------------------------------


def test_locked_view_refuses_a_second_holder_with_409(
    http: Http, loop: asyncio.AbstractEventLoop
) -> None:
    view = "/aorders/7" if http.kind == "asgi" else "/orders/7"
    if http.kind == "wsgi":
        box: list[Any] = []
        thread = threading.Thread(target=lambda: box.append(Client().get(view + "?sleep=0.5")))
        thread.start()
        import time

        time.sleep(0.2)
        busy = Client().get(view)
        thread.join(10)
        first = box[0]
    else:

        async def both() -> tuple[Any, Any]:
            client = AsyncClient()
            slow = asyncio.ensure_future(client.get(view + "?sleep=0.4"))
            await asyncio.sleep(0.15)
            refused = await client.get(view)
            return await slow, refused

        first, busy = loop.run_until_complete(both())
    assert first.status_code == 200
    assert json.loads(first.content)["token"] >= 1
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    assert http.request("get", view, body="").status_code == 200  # released afterwards


def test_a_view_slower_than_the_lease_keeps_its_claim_wsgi(
    raw: redis.Redis, prefix: str, settings: Any
) -> None:
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "IDEMPOTENCY": {"LEASE": 0.3}}
    results: list[int] = []

    def slow() -> None:
        response = Client().post("/charge?sleep=1.0", BODY, "application/json", **_meta("long"))
        results.append(response.status_code)

    thread = threading.Thread(target=slow)
    thread.start()
    _wait_for_record(raw, prefix)
    time.sleep(0.7)  # well past the 0.3 s lease: only the heartbeat keeps the claim
    busy = Client().post("/charge?sleep=1.0", BODY, "application/json", **_meta("long"))
    thread.join(10)
    assert busy.status_code == 409
    assert results == [201]
    assert hits(raw, prefix, "charge") == 1


@pytest.mark.anyio
async def test_a_view_slower_than_the_lease_keeps_its_claim_asgi(
    aclients: None, raw: redis.Redis, prefix: str, settings: Any
) -> None:
    settings.GOSCOPE_REDIS = {**settings.GOSCOPE_REDIS, "IDEMPOTENCY": {"LEASE": 0.3}}
    client = AsyncClient()
    headers = {"Idempotency-Key": "long"}

    async def post() -> Any:
        return await client.post("/acharge?sleep=1.0", BODY, "application/json", headers=headers)

    first = asyncio.ensure_future(post())
    await asyncio.sleep(0.7)  # past the lease
    busy = await post()
    done = await first
    assert (done.status_code, busy.status_code) == (201, 409)
    assert hits(raw, prefix, "acharge") == 1
