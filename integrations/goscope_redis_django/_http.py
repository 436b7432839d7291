"""Moving responses between Django and :class:`goscope_redis.http_idempotency.HTTPResponse`."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpResponse, HttpResponseBase

from goscope_redis.http_idempotency import (
    PROBLEM_TYPE_BASE,
    HTTPResponse,
    Problem,
    stored_response,
)


def header_pairs(response: HttpResponseBase) -> Iterator[tuple[str, str]]:
    """Every header line Django will send, ``Set-Cookie`` lines included."""
    yield from response.items()
    for morsel in response.cookies.values():
        yield "Set-Cookie", morsel.OutputString()


def capture(response: HttpResponse) -> HTTPResponse:
    """The storable form of a complete (non-streaming) Django response."""
    return stored_response(response.status_code, header_pairs(response), response.content)


def to_django(stored: HTTPResponse) -> HttpResponse:
    """A Django response with exactly ``stored``'s status, headers and body."""
    response = HttpResponse(stored.body, status=stored.status)
    del response["Content-Type"]  # Django's default; the stored headers say what it really was
    for name, value in stored.headers:
        if name.lower() == "set-cookie":
            response.cookies.load(value)
        elif name in response:
            response[name] = f"{response[name]}, {value}"  # repeated header lines, folded
        else:
            response[name] = value
    return response


def problem(
    status: int, title: str, detail: str, slug: str, retry_after: int | None = None
) -> HttpResponse:
    """An ``application/problem+json`` response (RFC 9457)."""
    headers = () if retry_after is None else (("Retry-After", str(retry_after)),)
    built = Problem(status, title, detail, PROBLEM_TYPE_BASE + slug, headers)
    return to_django(built.response())
