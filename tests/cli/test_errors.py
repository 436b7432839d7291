"""Failure paths: one line on stderr and exit code 2, never a traceback; and the entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from goscope_redis.cli import main

SUBCOMMANDS = ["status", "locks", "breakers", "idempotency", "checkpoints", "clear-cache"]
DOWN = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_unreachable_redis_is_a_one_line_error_with_exit_code_2(command, capsys):
    assert main(["--url", DOWN, command, "--yes"] if command == "clear-cache" else
                ["--url", DOWN, command]) == 2  # fmt: skip
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"goscope-redis: cannot reach Redis at {DOWN}: ")


def test_password_in_the_url_is_not_printed(capsys):
    assert main(["--url", "redis://admin:s3cret@127.0.0.1:1/0", "status"]) == 2
    err = capsys.readouterr().err
    assert "s3cret" not in err and "redis://127.0.0.1:1/0" in err


def test_missing_url_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["status"]) == 2
    assert capsys.readouterr().err == "goscope-redis: no Redis URL: pass --url or set REDIS_URL\n"


def test_redis_url_variable_is_the_default(monkeypatch, capsys, redis_server):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    assert main(["status", "--json"]) == 0
    assert redis_server.url in capsys.readouterr().out


def test_bad_prefix_and_bad_url_are_one_line_errors(capsys, redis_server):
    assert main(["--url", redis_server.url, "--prefix", "a{b}", "status"]) == 2
    assert main(["--url", "nonsense://x", "status"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and "brace" in lines[0] and "invalid Redis URL" in lines[1]


def test_options_may_follow_the_subcommand(capsys, redis_server, prefix):
    assert main(["status", "--url", redis_server.url, "--prefix", prefix, "--json"]) == 0
    assert '"prefix": "' + prefix in capsys.readouterr().out


def test_python_dash_m_entry_point_runs_status(redis_server):
    result = subprocess.run(
        [sys.executable, "-m", "goscope_redis", "--url", redis_server.url, "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "locks" in result.stdout and "checkpoint tasks" in result.stdout
