"""Checkpoint facades (filled in by the checkpoint work)."""

from __future__ import annotations

from goscope_redis.facades.base import AdapterCore


class SyncCheckpointAPI(AdapterCore):
    """Task checkpoints (sync)."""


class AsyncCheckpointAPI(AdapterCore):
    """Task checkpoints (async)."""
