"""The floor of Django's ``get``: what 2.5x Django's ``RedisCache`` leaves a client library.

``performance.md`` asks ``get`` and ``set`` for at least 2.5x Django's ``RedisCache``, measured
when that backend built a redis-py client on every call at ~60 µs (redis-py 8.1). redis-py 8.2
builds one in ~3 µs, so the same peer now costs about the price of a redis-py ``GET`` plus
Django's key making. This study takes our ``get`` apart in the same run, on the same pinned CPU:
one ``GET`` written and read on a raw socket (no client library: the command bytes built once,
the reply read by its known length), then the least Python work our signed form needs on top
(HMAC-SHA256 verification, ``pickle.loads``), then Django's ``make_key``, our key space and
the command packing per call; against redis-py's bare ``GET`` and the real backends. What is
left between the peer's time / 2.5 and the signed form's floor is all a client library may spend.

Every row is the best of ``ROUNDS`` interleaved runs (each round runs every row once), so drift
hits all rows alike.
"""

from __future__ import annotations

import pickle
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from cases_django import KEY, _seeded
from harness import Env
from study_django_floor import ROUNDS, best_of, redis_keys, verify_all
from tables import Study, Table

from goscope_redis.keys import KeySpace

N = 1000
QUICK_N = 20
TARGET = 2.5


def _command(key: str) -> bytes:
    """``GET key`` in RESP, as a client library would pack it."""
    raw = key.encode()
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%b\r\n" % (len(raw), raw)


@contextmanager
def _raw_get(env: Env) -> Iterator[Callable[[bytes], bytes]]:
    """A function sending one packed ``GET`` on a plain socket and returning the value bytes.

    The reply of the key it is used with is read by length (``$<n>\\r\\n<n bytes>\\r\\n``): the
    least a client can do, with no parser and no error handling."""
    with socket.create_connection(("127.0.0.1", env.server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sendall, recv = sock.sendall, sock.recv

        def get(command: bytes) -> bytes:
            sendall(command)
            reply = recv(65536)
            head = reply.index(b"\r\n")
            size = head + 2 + int(reply[1:head]) + 2
            while len(reply) < size:
                reply += recv(65536)
            return reply[head + 2 : -2]

        yield get


def _rows(env: Env, get: Callable[[bytes], bytes]) -> list[tuple[str, Callable[[], Any]]]:
    from django.conf import settings

    from goscope_redis_django.serializers import signing_key

    ours, ours_json = _seeded(env, "goscope"), _seeded(env, "goscope_json")
    django, django_redis = _seeded(env, "django"), _seeded(env, "django_redis")
    (signed,), (as_json,) = redis_keys(ours, [KEY]), redis_keys(ours_json, [KEY])
    signed_cmd, json_cmd = _command(signed), _command(as_json)
    verified, loads = verify_all(signing_key(settings.SECRET_KEY)), pickle.loads
    space, make_key, client_get = (
        KeySpace(ours.key_space_prefix, "cache"),
        ours.make_key,
        env.client.get,
    )

    def keyed() -> Any:
        return loads(verified([get(_command(space.key(make_key(KEY))))])[0])

    return [
        ("raw socket GET (no client library; bytes)", lambda: get(signed_cmd)),
        ("  + HMAC verify + pickle.loads (our signed form)",
         lambda: loads(verified([get(signed_cmd)])[0])),
        ("  + Django make_key + key space + command packing", keyed),
        ("raw socket GET + orjson.loads (JSON form)", lambda: orjson.loads(get(json_cmd))),
        ("redis-py GET (bytes, nothing decoded)", lambda: client_get(signed)),
        ("goscope RedisCache.get (signed pickle)", lambda: ours.get(KEY)),
        ("goscope RedisCache.get (json)", lambda: ours_json.get(KEY)),
        ("django-redis get (pickle)", lambda: django_redis.get(KEY)),
        ("Django RedisCache.get (pickle)", lambda: django.get(KEY)),
    ]  # fmt: skip


def run(env: Env) -> Table:
    """The floor table, and what 2.5x Django's ``RedisCache`` would need."""
    with _raw_get(env) as get:
        rows = _rows(env, get)
        times = dict(zip((label for label, _ in rows), best_of(rows, QUICK_N if env.quick else N)))
    peer = times["Django RedisCache.get (pickle)"]
    budget = peer / TARGET
    raw = times["raw socket GET (no client library; bytes)"]
    floor = times["  + HMAC verify + pickle.loads (our signed form)"]
    library = times["redis-py GET (bytes, nothing decoded)"]
    ours = times["goscope RedisCache.get (signed pickle)"]
    table = tuple((label, round(us, 1), f"{peer / us:.2f}x") for label, us in times.items())
    notes = (
        f"{TARGET}x Django's RedisCache ({peer:.1f} µs) needs {budget:.1f} µs per get.",
        f"A raw socket GET alone takes {raw:.1f} µs (at most {peer / raw:.2f}x); with our signed "
        f"form verified and unpickled, {floor:.1f} µs ({peer / floor:.2f}x). That leaves "
        f"{budget - floor:.1f} µs per get for all a client library does over a raw socket "
        "(Django's key, packing the command, parsing the reply, connections, errors).",
        f"redis-py's bare GET spends {library - raw:.1f} µs over the raw socket; ours spends "
        f"{ours - floor:.1f} µs over the signed floor row (it remembers the Redis key of each "
        "Django key, so it skips most of the key row's work).",
        "Django's RedisCache builds a redis-py client per call: ~60 µs on redis-py 8.1, where "
        "performance.md took its anchor, ~3 µs on 8.2 (see the django.*.redis-py-8.1 rows).",
        f"best of {ROUNDS} interleaved runs of {QUICK_N if env.quick else N} calls per row; "
        "x RedisCache = Django RedisCache time / row time (higher: faster)",
    )
    return Table(
        "django_get_floor",
        f"Django get: the floor under {TARGET}x Django's RedisCache",
        ("get path", "µs", "x RedisCache"),
        table,
        notes,
    )


STUDIES = (Study("study.django_get_floor", run),)
