"""Every Python example in the README and the core guides runs as written (against our server)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ["README.md", *(f"docs/{n}.md" for n in (
    "circuit-breaker", "checkpoints", "idempotency", "scopes", "decorators", "starlette", "django"
))]  # fmt: skip
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _examples() -> list[tuple[str, int, str]]:
    found = []
    for name in DOCS:
        path = ROOT / name
        if path.exists():
            for i, code in enumerate(BLOCK.findall(path.read_text())):
                found.append((name, i, code))
    return found


@pytest.mark.parametrize(("doc", "index", "code"), _examples(), ids=lambda v: str(v)[:20])
def test_example_runs(doc, index, code, redis_server, sync_client):
    # Examples use the prefix "myapp:" and expect to start from nothing.
    for key in sync_client.scan_iter("myapp:*", count=1000):
        sync_client.unlink(key)
    code = code.replace("redis://localhost:6379/0", redis_server.url)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "integrations")])},
    )  # fmt: skip
    assert result.returncode == 0, f"{doc} example {index} failed:\n{result.stderr[-3000:]}"
