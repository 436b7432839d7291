"""``status``: the server's version and memory, and how many items of each kind are stored."""

from __future__ import annotations

import argparse
from typing import Any

import redis
from redis.cluster import RedisCluster

from goscope_redis.cli.context import Context
from goscope_redis.cli.render import emit_json, print_pairs
from goscope_redis.cli.scan import scan_keys

# The counts, in display order: key kind -> label (its JSON name is the label in snake_case).
KIND_LABELS = {
    "lock": "locks",
    "cache": "cache entries",
    "circuit": "breakers",
    "idempotency": "idempotency records",
    "checkpoint": "checkpoint tasks",
}
INDEX_TAIL = "}:index"


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``status`` subcommand."""
    parser = sub.add_parser("status", parents=[common], help="server and counts per kind")
    parser.set_defaults(run=run)


def count(ctx: Context, kind: str) -> int:
    """Logical items of ``kind``: main keys only, never companions (fence, probes, index...)."""
    space = ctx.space(kind)
    if kind != "checkpoint":
        return len(scan_keys(ctx.client, space.match()))
    # A task is its index; its numbered data keys are companions of the same hash tag.
    return sum(key.endswith(INDEX_TAIL) for key in scan_keys(ctx.client, space.match_all()))


def server_info(ctx: Context) -> dict[str, Any]:
    """Version and memory from ``INFO``; ``None`` where an ACL-scoped user may not read it.

    On a Cluster, the memory is the sum over the primaries and ``cluster_primaries`` says how
    many.
    """
    client = ctx.client
    try:
        server = client.info("server")
        if not isinstance(client, RedisCluster):
            memory = client.info("memory")
            return _facts(server, memory["used_memory"], memory["used_memory_human"], None)
        per_node = client.info("memory", target_nodes=RedisCluster.PRIMARIES)
    except redis.ResponseError:
        return _facts({}, None, None, None)
    used = sum(int(node["used_memory"]) for node in per_node.values())
    return _facts(server, used, f"{used / 2**20:.2f}M", len(per_node))


def _facts(
    server: dict[str, Any], used: int | None, human: str | None, primaries: int | None
) -> dict[str, Any]:
    facts = {
        "version": server.get("redis_version"),
        "used_memory": used,
        "used_memory_human": human,
    }
    if primaries is not None:
        facts["cluster_primaries"] = primaries
    return facts


def _cluster(info: dict[str, Any]) -> str:
    primaries = info.get("cluster_primaries")
    return "" if primaries is None else f" (cluster of {primaries} primaries)"


def _memory(info: dict[str, Any]) -> str:
    if info["used_memory"] is None:
        return "-"
    return f"{info['used_memory_human']} ({info['used_memory']:,} bytes)"


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print the status as label/value pairs or as one JSON object."""
    info = server_info(ctx)
    counts = {label.replace(" ", "_"): count(ctx, kind) for kind, label in KIND_LABELS.items()}
    if ctx.as_json:
        server = {**info, "url": ctx.location}
        emit_json(ctx, {"server": server, "prefix": ctx.prefix, "counts": counts})
        return 0
    pairs = [
        ("server", f"redis {info['version'] or '?'} at {ctx.location}{_cluster(info)}"),
        ("used memory", _memory(info)),
        ("prefix", repr(ctx.prefix)),
    ]
    pairs += [(label.replace("_", " "), str(n)) for label, n in counts.items()]
    print_pairs(ctx, pairs)
    return 0
