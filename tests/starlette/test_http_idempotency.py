"""The framework-free ``Idempotency-Key`` rules of ``goscope_redis.http_idempotency`` (no I/O)."""

from __future__ import annotations

import json

import pytest

from goscope_redis.http_idempotency import (
    HTTPResponse,
    Problem,
    claim_response,
    fingerprint,
    in_progress,
    read_key,
    scoped_key,
    should_store,
    stored_response,
)
from goscope_redis.idempotency_records import Claim, IdempotencyRecord


def test_read_key_returns_the_key_or_none_when_optional() -> None:
    assert read_key(["abc-123"]) == "abc-123"
    assert read_key([" abc "]) == "abc"
    assert read_key([]) is None


def test_read_key_unquotes_a_structured_field_string() -> None:
    assert read_key(['"abc"']) == "abc"
    assert read_key(['"a\\"b\\\\c"']) == 'a"b\\c'


@pytest.mark.parametrize(
    "values",
    [[""], ["\t"], ['""'], ["x" * 256], ["a\nb"], ["a\x7fb"], ["a", "a"], ['"a'], ['"a"b"']],
)
def test_read_key_rejects_malformed_values_with_400(values: list[str]) -> None:
    problem = read_key(values)
    assert isinstance(problem, Problem) and problem.status == 400


def test_read_key_requires_the_header_when_asked() -> None:
    problem = read_key([], header="X-Key", required=True)
    assert isinstance(problem, Problem)
    assert problem.status == 400 and "X-Key" in problem.title
    assert problem.type.endswith("idempotency-key-missing")


def test_fingerprint_ignores_json_key_order_whitespace_and_query_order() -> None:
    one = fingerprint("post", "/o", b"b=2&a=1", b'{"a": 1, "b": [1, {"y": 2, "x": 3}]}')
    two = fingerprint("POST", "/o", "a=1&b=2", b'{"b":[1,{"x":3,"y":2}],"a":1}', "application/json")
    assert one == two
    assert len(one) == 64


@pytest.mark.parametrize(
    "other",
    [
        ("PATCH", "/o", "a=1", b'{"a":1}'),
        ("POST", "/p", "a=1", b'{"a":1}'),
        ("POST", "/o", "a=2", b'{"a":1}'),
        ("POST", "/o", "a=1", b'{"a":2}'),
        ("POST", "/o", "a=1&a=1", b'{"a":1}'),
    ],
)
def test_fingerprint_changes_with_method_path_query_or_body(
    other: tuple[str, str, str, bytes],
) -> None:
    assert fingerprint("POST", "/o", "a=1", b'{"a":1}') != fingerprint(*other)


def test_fingerprint_hashes_non_json_bodies_raw() -> None:
    form = "application/x-www-form-urlencoded"
    assert fingerprint("POST", "/", "", b"a=1&b=2", form) != fingerprint(
        "POST", "/", "", b"b=2&a=1", form
    )
    # A JSON-looking body sent as text/plain is not reinterpreted.
    assert fingerprint("POST", "/", "", b'{"a":1,"b":2}', "text/plain") != fingerprint(
        "POST", "/", "", b'{"b":2,"a":1}', "text/plain"
    )
    assert fingerprint("POST", "/", "", b"{not json", "application/json")  # no error


def test_fingerprint_parts_cannot_run_into_each_other() -> None:
    assert fingerprint("POST", "/ab", "", b"c") != fingerprint("POST", "/a", "", b"bc")


def test_scoped_key_is_injective_over_principal_and_key() -> None:
    pairs = [("a:b", "c"), ("a", "b:c"), (None, "1:a:b"), ("", "x"), (None, "x"), ("1", "x")]
    keys = [scoped_key(key, principal) for principal, key in pairs]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("http:") for k in keys)


def test_stored_response_round_trips_through_json_and_drops_hop_by_hop_headers() -> None:
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"x-caf\xe9", b"\xff"),
        (b"transfer-encoding", b"chunked"),
        (b"connection", b"keep-alive"),
    ]
    response = stored_response(201, headers, bytes(range(256)))
    value = json.loads(json.dumps(response.to_value()))
    again = HTTPResponse.from_value(value)
    assert again == response
    assert [name for name, _ in again.headers] == ["content-type", "x-caf\xe9"]
    assert again.body == bytes(range(256))


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"v": 2, "status": 200, "headers": [], "body": ""},
        {"v": 1, "status": 99, "headers": [], "body": ""},
        {"v": 1, "status": True, "headers": [], "body": ""},
        {"v": 1, "status": 200, "headers": [], "body": "!!"},
        {"v": 1, "status": 200, "headers": 5, "body": ""},
    ],
)
def test_from_value_rejects_what_is_not_an_envelope(value: object) -> None:
    with pytest.raises(ValueError, match=r"not a stored HTTP response|unknown envelope"):
        HTTPResponse.from_value(value)


@pytest.mark.parametrize(
    ("status", "size", "options", "stored"),
    [
        (200, 10, {}, True),
        (404, 10, {}, True),
        (500, 10, {}, False),
        (503, 10, {"store_server_errors": True}, True),
        (429, 10, {"store_server_errors": True}, False),
        (200, 11, {"max_body_bytes": 10}, False),
        (200, 10, {"max_body_bytes": 10}, True),
        (200, 0, {"streamed": True}, False),
    ],
)
def test_should_store(status: int, size: int, options: dict[str, object], stored: bool) -> None:
    assert should_store(status, size, **options) is stored  # type: ignore[arg-type]


def test_in_progress_asks_for_a_retry_in_one_second_and_states_the_lease_bound() -> None:
    assert dict(in_progress(1).headers)["Retry-After"] == "1"
    assert dict(in_progress(None).headers)["Retry-After"] == "1"
    problem = in_progress(59_001)
    assert dict(problem.headers)["Retry-After"] == "1"
    assert "within 60 s" in problem.detail


def test_problem_response_is_problem_json() -> None:
    response = in_progress(5000).response()
    headers = dict(response.headers)
    assert response.status == 409
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Content-Length"]) == len(response.body)
    doc = json.loads(response.body)
    assert set(doc) == {"type", "title", "status", "detail"}


def test_claim_response_per_status() -> None:
    stored = stored_response(201, [("X-A", "1")], b"hi").to_value()
    assert claim_response(Claim("started", "k", owner="o")) is None
    assert claim_response(Claim("in_progress", "k", retry_after=10)).status == 409  # type: ignore[union-attr]
    assert claim_response(Claim("mismatch", "k")).status == 422  # type: ignore[union-attr]
    replay = claim_response(Claim("completed", "k", record=IdempotencyRecord(stored, None)))
    assert replay is not None
    assert (replay.status, replay.body) == (201, b"hi")
    assert ("Idempotent-Replayed", "true") in replay.headers
    bad = claim_response(Claim("completed", "k", record=IdempotencyRecord("junk", None)))
    failed = claim_response(Claim("completed", "k", record=IdempotencyRecord(stored, None, True)))
    assert bad is not None and failed is not None and bad.status == failed.status == 500
