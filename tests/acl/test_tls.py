"""TLS: ``rediss://`` with a test CA works; a wrong CA or a wrong hostname fails closed.

Skipped when the ``redis-server`` binary was built without TLS (the Debian package has it).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from goscope_redis import AsyncRedisAdapter, RedisAdapter
from goscope_redis.testing import RedisServer, free_port

from .certs import make_ca, make_server_cert


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server with a plain port (for the admin) and a TLS port for ``localhost``."""
    directory = tmp_path_factory.mktemp("tls")
    ca = make_ca(directory, "test-ca")
    wrong_ca = make_ca(directory, "other-ca")
    cert, key = make_server_cert(directory, ca, "localhost")
    port = free_port()
    server = RedisServer(
        "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca[0]), "--tls-auth-clients", "no",
    )  # fmt: skip
    try:
        server.start()
    except RuntimeError:
        pytest.skip("this redis-server has no TLS support (built without BUILD_TLS)")
    yield {"server": server, "port": port, "ca": ca[0], "wrong_ca": wrong_ca[0]}
    server.stop()


def _url(tls: dict[str, Any], host: str = "localhost") -> str:
    return f"rediss://{host}:{tls['port']}/0"


def test_rediss_with_the_test_ca_works_sync(tls: dict[str, Any], prefix: str) -> None:
    with RedisAdapter.from_url(_url(tls), prefix, ssl_ca_certs=str(tls["ca"])) as adapter:
        adapter.set("k", {"tls": True})
        assert adapter.get("k") == {"tls": True}
        with adapter.lock("job", 5_000, wait=1_000) as handle:
            assert handle.is_valid()


def test_rediss_with_the_test_ca_works_async(tls: dict[str, Any], prefix: str) -> None:
    async def main() -> None:
        url = _url(tls)
        async with AsyncRedisAdapter.from_url(url, prefix, ssl_ca_certs=str(tls["ca"])) as adapter:
            await adapter.set("k", [1, 2])
            assert await adapter.get("k") == [1, 2]

    asyncio.run(main())


@pytest.mark.parametrize(
    ("case", "host", "ca"),
    [("wrong CA", "localhost", "wrong_ca"), ("wrong hostname", "127.0.0.1", "ca")],
)
def test_a_wrong_ca_or_hostname_fails_closed(
    tls: dict[str, Any], prefix: str, case: str, host: str, ca: str
) -> None:
    adapter = RedisAdapter.from_url(_url(tls, host), prefix, ssl_ca_certs=str(tls[ca]), retry=None)
    with pytest.raises(RedisConnectionError) as info:
        adapter.set("k", "must not be written")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value), str(info.value)
    reason = "mismatch" if case == "wrong hostname" else "(self-signed|unable to get local issuer)"
    assert re.search(reason, str(info.value))
    with pytest.raises(RedisConnectionError):
        adapter.acquire("job", 5_000)  # fail-closed: an error, never "not acquired" or success
    adapter.disconnect()
    plain = redis.Redis(port=tls["server"].port)
    assert plain.keys(f"{prefix}*") == []
    plain.close()


def test_the_async_client_fails_closed_on_a_wrong_ca(tls: dict[str, Any], prefix: str) -> None:
    async def main() -> None:
        url, ca = _url(tls), str(tls["wrong_ca"])
        adapter = AsyncRedisAdapter.from_url(url, prefix, ssl_ca_certs=ca, retry=None)
        with pytest.raises(RedisConnectionError):
            await adapter.idempotency.begin("charge:1")
        await adapter.disconnect()

    asyncio.run(main())
