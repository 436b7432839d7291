"""Fuzz the ``Idempotency-Key`` header and the JSON bodies (``goscope_redis.http_idempotency``).

Hostile headers never raise and never yield an invalid key; every refusal is a well-formed
``application/problem+json`` 400. Fingerprints ignore JSON key order and whitespace but tell any
two different documents apart; arbitrary bytes never break them. Stored envelopes round-trip, and
junk records read back as a 500, never as an exception or a replayed success.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import assume, given
from hypothesis import strategies as st

from goscope_redis import RedisIdempotencyAdapter
from goscope_redis.idempotency_records import Claim, IdempotencyRecord

from .strategies import JSON

http = pytest.importorskip("goscope_redis.http_idempotency")

HEADER_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
)


def _valid(key: str) -> bool:
    return 0 < len(key) <= 255 and not any(unicodedata.category(c) == "Cc" for c in key)


def _assert_problem_400(result: object) -> None:
    assert isinstance(result, http.Problem) and result.status == 400
    response = result.response()
    doc = json.loads(response.body)
    assert set(doc) == {"type", "title", "status", "detail"} and doc["status"] == 400
    assert ("Content-Type", http.PROBLEM_CONTENT_TYPE) in response.headers
    assert ("Content-Length", str(len(response.body))) in response.headers


@given(st.lists(HEADER_TEXT, max_size=3), st.booleans())
def test_any_header_gives_a_valid_key_none_or_a_400_problem(values, required):
    result = http.read_key(values, required=required)
    if result is None:
        assert values == [] and not required
    elif isinstance(result, str):
        assert len(values) == 1 and _valid(result)
    else:
        _assert_problem_400(result)


@given(HEADER_TEXT)
def test_a_valid_key_reads_back_as_itself_bare_or_as_a_quoted_string(key):
    assume(_valid(key) and key == key.strip(" \t") and not key.startswith('"'))
    assert http.read_key([key]) == key
    quoted = '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert http.read_key([quoted]) == key


@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_scoped_keys_are_injective(principal_a, key_a, principal_b, key_b):
    assume((principal_a, key_a) != (principal_b, key_b))
    assert http.scoped_key(key_a, principal_a) != http.scoped_key(key_b, principal_b)
    assert http.scoped_key(key_a) != http.scoped_key(key_b, principal_b)


def _reordered(value):
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@given(JSON)
def test_json_key_order_and_whitespace_do_not_change_the_fingerprint(doc):
    compact = json.dumps(doc, separators=(",", ":")).encode()
    spaced = json.dumps(_reordered(doc), indent=2).encode()
    assert http.fingerprint("POST", "/pay", "", compact, "application/json") == http.fingerprint(
        "post", "/pay", "", spaced, "application/json; charset=utf-8"
    )


@given(JSON, JSON)
def test_different_json_documents_have_different_fingerprints(doc_a, doc_b):
    canonical = [json.dumps(d, sort_keys=True) for d in (doc_a, doc_b)]
    assume(canonical[0] != canonical[1] and json.loads(canonical[0]) != json.loads(canonical[1]))
    fp_a = http.fingerprint("POST", "/pay", "", json.dumps(doc_a).encode(), "application/json")
    fp_b = http.fingerprint("POST", "/pay", "", json.dumps(doc_b).encode(), "application/json")
    assert fp_a != fp_b


@given(st.binary(max_size=200), st.sampled_from([None, "application/json", "text/plain"]))
def test_arbitrary_bodies_never_break_the_fingerprint(body, content_type):
    digest = http.fingerprint("POST", "/x", "a=1&b=2", body, content_type)
    assert len(digest) == 64 and digest == http.fingerprint(
        "POST", "/x", "b=2&a=1", body, content_type
    )


def test_deeply_nested_json_is_hashed_as_bytes_not_a_crash():
    body = b"[" * 100_000 + b"]" * 100_000
    assert len(http.fingerprint("POST", "/x", "", body, "application/json")) == 64


LATIN1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=10)


@given(
    st.integers(100, 599), st.lists(st.tuples(LATIN1, LATIN1), max_size=4), st.binary(max_size=64)
)
def test_stored_responses_round_trip_through_json(status, headers, body):
    response = http.HTTPResponse(status, tuple(headers), body)
    envelope = json.loads(json.dumps(response.to_value()))
    assert http.HTTPResponse.from_value(envelope) == response


@given(JSON)
def test_a_junk_record_is_a_500_never_an_exception_or_a_success(junk):
    record = IdempotencyRecord(junk, None)
    response = http.claim_response(Claim("completed", "k", record=record))
    assume(not (isinstance(junk, dict) and junk.get("v") == 1))
    assert response is not None and response.status == 500


@pytest.fixture(scope="module")
def idem(redis_server) -> Iterator[RedisIdempotencyAdapter]:
    """Module-scoped (Hypothesis runs many examples per test): a fresh prefix of its own."""
    client = redis.Redis(port=redis_server.port)
    yield RedisIdempotencyAdapter(client, f"fuzz{uuid.uuid4().hex[:8]}:")
    client.close()


@given(doc=JSON, other=JSON)
def test_through_redis_a_reordered_body_replays_and_a_different_one_is_422(idem, doc, other):
    assume(json.dumps(doc, sort_keys=True) != json.dumps(other, sort_keys=True))
    assume(json.loads(json.dumps(doc)) != json.loads(json.dumps(other)))
    key = http.scoped_key(uuid.uuid4().hex)

    def fp(value: object, indent: int | None = None) -> str:
        return http.fingerprint("POST", "/pay", "", json.dumps(value, indent=indent).encode())

    claim = idem.begin(key, fingerprint=fp(doc))
    assert claim.status == "started"
    stored = http.stored_response(201, [(b"content-type", b"application/json")], b'{"ok":1}')
    assert idem.complete(claim, stored.to_value(), ttl=60_000)
    replay = http.claim_response(idem.begin(key, fingerprint=fp(_reordered(doc), indent=1)))
    assert replay is not None and replay.status == 201
    assert (http.REPLAYED_HEADER, "true") in replay.headers
    refused = http.claim_response(idem.begin(key, fingerprint=fp(other)))
    assert refused is not None and refused.status == 422
