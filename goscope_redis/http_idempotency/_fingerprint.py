"""The request fingerprint: method, path, sorted query and canonical body."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl


def fingerprint(
    method: str,
    path: str,
    query: str | bytes = "",
    body: bytes = b"",
    content_type: str | None = None,
) -> str:
    """The SHA-256 hex digest of what makes two requests "the same".

    It covers the method, the path, the query (its parameters sorted, so their order does not
    matter) and the body. A JSON body (``content_type`` JSON or ``+json``, or unknown) is parsed
    and re-dumped with sorted keys, so reordering its keys or its whitespace does not change the
    digest; any other body is hashed as raw bytes. Each part is length-prefixed.
    """
    digest = hashlib.sha256()
    for part in (
        b"goscope-http-v1",
        method.upper().encode("ascii", "replace"),
        path.encode("utf-8", "surrogatepass"),
        _canonical_query(query),
        *_canonical_body(body, content_type),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _canonical_query(query: str | bytes) -> bytes:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    if not text:
        return b""
    pairs = sorted(parse_qsl(text, keep_blank_values=True))
    return json.dumps(pairs, separators=(",", ":")).encode()


def _canonical_body(body: bytes, content_type: str | None) -> tuple[bytes, bytes]:
    if body and _is_json(content_type):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            pass  # not JSON after all: hash the bytes as sent
        else:
            text = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return b"json", text.encode("utf-8", "surrogatepass")
    return b"raw", bytes(body)


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
