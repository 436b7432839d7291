"""What a claim means for the request: replay, refuse, or run."""

from __future__ import annotations

from goscope_redis.http_idempotency._constants import DEFAULT_HEADER
from goscope_redis.http_idempotency._problems import in_progress, mismatch, unreadable_record
from goscope_redis.http_idempotency._responses import HTTPResponse
from goscope_redis.idempotency_records import Claim


def claim_response(claim: Claim, header: str = DEFAULT_HEADER) -> HTTPResponse | None:
    """The response ``begin()``'s answer calls for, or ``None`` to run the handler.

    ``started``: ``None`` (this request owns the key). ``completed``: the stored response,
    marked ``Idempotent-Replayed: true``. ``in_progress``: 409 with ``Retry-After``.
    ``mismatch``: 422. A record we cannot read gives 500 rather than running again.
    """
    if claim.status == "started":
        return None
    if claim.status == "in_progress":
        return in_progress(claim.retry_after, header).response()
    if claim.status == "mismatch":
        return mismatch(header).response()
    record = claim.record
    if record is None or record.is_error:
        return unreadable_record(header).response()
    try:
        return HTTPResponse.from_value(record.value).replayed()
    except ValueError:
        return unreadable_record(header).response()
