"""Every subcommand but ``clear-cache`` writes nothing, and none uses ``KEYS``."""

from __future__ import annotations

import pytest

from goscope_redis import Checkpoint

READ_COMMANDS = [
    ["status"],
    ["locks"],
    ["breakers"],
    ["idempotency"],
    ["idempotency", "--key", "charge:1"],
    ["checkpoints"],
]
WRITES = ("set", "del", "unlink", "hset", "hdel", "expire", "pexpire", "zadd", "incr", "flushdb")


def _snapshot(client, prefix):
    return {key: client.dump(key) for key in client.scan_iter(match=prefix + "*")}


def _calls(client, names):
    stats = client.info("commandstats")
    return {name: stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in names}


def test_read_commands_change_nothing_and_never_call_keys(cli, seeded, prefix):
    seeded.acquire("orders:1", 30_000)
    seeded.set("user:1", 1)
    seeded.record_failure("payments", 1)
    seeded.idempotency.set("charge:1", "ok", ttl=60_000)
    seeded.save_checkpoint(Checkpoint("import:1", 0, {}))
    before = _snapshot(seeded.client, prefix)
    calls = _calls(seeded.client, ("keys", *WRITES))
    for args in READ_COMMANDS:
        assert cli(*args).code == 0
        assert cli(*args, "--json").code == 0
    assert _snapshot(seeded.client, prefix) == before
    assert _calls(seeded.client, ("keys", *WRITES)) == calls


READER = "+ping +scan +get +pttl +hgetall +hmget +zrange +zrevrange +time"
SCRIPTS = "+evalsha +eval"


@pytest.mark.parametrize("scripts", [True, False], ids=["with-scripts", "strictly-read-only"])
def test_read_commands_work_for_an_acl_user_limited_to_the_prefix(
    cli, seeded, prefix, redis_server, scripts
):
    # The least a read-only operator account needs (docs/cli.md lists it). No INFO.
    seeded.acquire("orders:1", 30_000)
    seeded.set("user:1", 1)
    seeded.record_failure("payments", 1)
    seeded.idempotency.set("charge:1", "ok", ttl=60_000)
    seeded.save_checkpoint(Checkpoint("import:1", 3, {}, progress=50.0))
    user = f"reader-{prefix.rstrip(':')}"
    allowed = (READER + (" " + SCRIPTS if scripts else "")).split()
    seeded.client.execute_command(
        "ACL", "SETUSER", user, "on", ">pw", f"~{prefix}*", "-@all", *allowed
    )
    url = redis_server.url.replace("redis://", f"redis://{user}:pw@")
    try:
        for args in READ_COMMANDS:
            assert cli(*args, url=url).code == 0, args
        status = cli("status", "--json", url=url).json()
        assert status["server"]["version"] is None and status["counts"]["locks"] == 1
        task = cli("checkpoints", "--json", url=url).json()[0]
        assert task["sequence"] == 3 and task["progress"] == (50.0 if scripts else None)
        denied = cli("clear-cache", "--yes", url=url)  # no UNLINK: a one-line error
        assert denied.code == 2 and denied.err.count("\n") == 1 and "Redis error" in denied.err
        assert seeded.get("user:1") == 1
    finally:
        seeded.client.execute_command("ACL", "DELUSER", user)
