"""The Django rows with a target, again, with both sides on the redis-py of ``performance.md``.

``performance.md`` took its anchors with redis-py 8.1, and its "2.5x Django's ``RedisCache``"
target against the anchor's 88.7 µs per ``cache.get``. Django's ``RedisCache`` builds a
``redis.Redis`` on every call (``get_client``), and what that costs is redis-py's business:
8.1 builds an event dispatcher and rebuilds the response-callback table for every client,
~60 µs here; 8.2 (what pip picks today) builds the dispatcher only if used and copies a cached
table, ~3 µs: that peer got twice as fast. The other peers keep their client and move less
(redis-py's own ``Lock`` is slower on 8.1, in our favour there, and passes either way), except
``get_many(100)`` against django-redis, which moves the other way: redis-py 8.2 reads a
100-value ``MGET`` reply slower than 8.1 (121 against 80 µs here).

So the suite measures the Django rows with a target against those peers twice: on the installed
redis-py (the main rows), and in a nested run of this same bench with redis-py
:data:`ANCHOR_VERSION` first on ``sys.path`` for *both* sides (rows suffixed ``.redis-py-8.1``),
each with its target; the report shows both.
The nested run installs that redis-py once into ``bench/.anchor/`` (``pip --target``, no
dependencies; git ignores it) and starts its own ``redis-server``, pinned like the parent.

``GOSCOPE_BENCH_ANCHOR_REDIS_PY`` and ``GOSCOPE_BENCH_ANCHOR_SITE`` override the version and
the directory (the smoke test points them at the installed redis-py, so it needs no network).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ANCHOR_VERSION = os.environ.get("GOSCOPE_BENCH_ANCHOR_REDIS_PY", "8.1.0")
"""The redis-py that ``performance.md`` names for its anchors."""
ROWS = (
    "django.get.sync.vs-django",
    "django.set.sync.vs-django",
    "django.get_many100.sync.vs-django-redis",
)
"""The targeted comparisons whose peer's cost moved with the redis-py release."""
CHILD = "GOSCOPE_BENCH_ANCHOR_CHILD"
"""Set in the nested run: it measures, it does not nest again."""
SUFFIX = ".redis-py-" + ".".join(ANCHOR_VERSION.split(".")[:2])


def names() -> list[str]:
    """The names of the anchored rows, as ``--list`` and ``--only`` see them."""
    return [row + SUFFIX for row in ROWS]


def is_child() -> bool:
    """True inside the nested run."""
    return os.environ.get(CHILD) == "1"


def site() -> Path:
    """Where the anchor's redis-py lives (installed on first use)."""
    override = os.environ.get("GOSCOPE_BENCH_ANCHOR_SITE")
    return Path(override) if override else BENCH / ".anchor" / f"redis-{ANCHOR_VERSION}"


def _installed(where: Path) -> str | None:
    """Install redis-py ANCHOR_VERSION into ``where`` unless there; the reason if that fails."""
    if (where / "redis" / "__init__.py").exists():
        return None
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, "--no-deps", "--target", str(where), f"redis=={ANCHOR_VERSION}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return f"pip could not install redis=={ANCHOR_VERSION}: {done.stderr.strip()[-300:]}"
    return None


def measure(rows: list[str], options: list[str]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Run ``rows`` in a nested bench on the anchor's redis-py: their records, renamed, and
    what one ``redis.Redis(connection_pool=pool)`` costs (µs) on each redis-py.

    ``options`` are the parent's own (``--quick``, ``--budget``, ``--cpu``/``--no-pin``).
    Returns nothing (and says why on stderr) if that redis-py cannot be installed, or the
    nested run fails or imports another redis-py than the one asked for.
    """
    where = site()
    env = {**os.environ, CHILD: "1", "PYTHONPATH": _path_with(where)}
    # A failure here loses these rows only, never the run they are part of: say why, go on.
    payload, reason = None, _installed(where)
    if reason is None:
        payload, reason = _nested(rows, options, env, where)
    if payload is None:
        print(f"\nskipped the redis-py {ANCHOR_VERSION} rows: {reason}", file=sys.stderr)
        return [], {}
    costs = dict((_build_cost(dict(os.environ)), _build_cost(env)))
    return [_renamed(record) for record in payload["comparisons"]], costs


def _nested(
    rows: list[str], options: list[str], env: dict[str, str], where: Path
) -> tuple[dict[str, Any] | None, str | None]:
    """The nested run's results, or why there are none."""
    print(f"... again on redis-py {ANCHOR_VERSION}:", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="goscope-anchor-") as tmp:
        output = Path(tmp) / "anchor.json"
        only = [arg for row in rows for arg in ("--only", "=" + row)]
        command = [sys.executable, str(BENCH / "run.py"), *only, *options, "--output", str(output)]
        # Its rows join our table; its progress (stderr) shows as it goes.
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL)
        if done.returncode != 0 or not output.exists():
            return None, f"the nested run failed (exit {done.returncode}; its stderr is above)"
        payload: dict[str, Any] = json.loads(output.read_text())
    found, origin = payload["meta"]["versions"]["redis"], payload["meta"]["redis_py_from"]
    if found != ANCHOR_VERSION or not origin.startswith(str(where)):
        return None, f"the nested run imported redis-py {found} from {origin}, not {where}"
    return payload, None


def _path_with(where: Path) -> str:
    return os.pathsep.join(filter(None, (str(where), os.environ.get("PYTHONPATH"))))


# What Django's RedisCache.get_client() does on every call, timed alone.
_BUILD = (
    "import timeit, redis; pool = redis.ConnectionPool(); n = 5000; "
    "t = timeit.timeit(lambda: redis.Redis(connection_pool=pool), number=n); "
    "print(redis.__version__, round(t / n * 1e6, 2))"
)


def _build_cost(env: dict[str, str]) -> tuple[str, float]:
    """(redis-py version, µs per client built) under ``env``."""
    done = subprocess.run(
        [sys.executable, "-c", _BUILD], env=env, capture_output=True, text=True, check=True
    )
    version, micros = done.stdout.split()
    return version, float(micros)


def _renamed(record: dict[str, Any]) -> dict[str, Any]:
    note = f"both sides on redis-py {ANCHOR_VERSION} (performance.md's anchor version)"
    return {
        **record,
        "name": record["name"] + SUFFIX,
        "note": f"{note}; {record['note']}" if record["note"] else note,
    }
