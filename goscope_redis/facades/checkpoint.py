"""Checkpoint facades: save, load (latest or by id), list, clean up and delete checkpoints."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from goscope_redis.checkpoint import Checkpoint
from goscope_redis.durations import optional_ms
from goscope_redis.facades.base import AdapterCore
from goscope_redis.keys import KeySpace
from goscope_redis.ops import checkpoint as ops
from goscope_redis.runner import run_async, run_sync


class _CheckpointCore(AdapterCore):
    @cached_property
    def _checkpoints(self) -> ops.CheckpointSpec:
        return ops.CheckpointSpec(KeySpace(self._prefix, "checkpoint"), self._codec)


class SyncCheckpointAPI(_CheckpointCore):
    """Task checkpoints (sync)."""

    def save_checkpoint(self, checkpoint: Checkpoint, ttl: Any = None) -> Checkpoint:
        """Save atomically (one round trip); return it with its ``id``. ``ttl`` in ms.

        Raises ``ValueError`` if a higher sequence is already stored for the task.
        """
        op = ops.save(self._checkpoints, checkpoint, optional_ms(ttl))
        return run_sync(op, self._client)

    def load_latest_checkpoint(self, task_id: str) -> Checkpoint | None:
        """The task's checkpoint with the highest sequence, or ``None`` (one round trip)."""
        return run_sync(ops.load_latest(self._checkpoints, task_id), self._client)

    def load_checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        """The checkpoint with this id (as returned by ``save_checkpoint``), or ``None``."""
        return run_sync(ops.load(self._checkpoints, checkpoint_id), self._client)

    def list_checkpoints(self, task_id: str) -> list[Checkpoint]:
        """The task's checkpoints by ascending sequence."""
        return run_sync(ops.list_(self._checkpoints, task_id), self._client)

    def cleanup_checkpoints(self, task_id: str, keep: int) -> int:
        """Keep the task's newest ``keep`` checkpoints; return how many were deleted."""
        return run_sync(ops.cleanup(self._checkpoints, task_id, keep), self._client)

    def delete_checkpoints(self, task_id: str) -> int:
        """Delete all of the task's checkpoints; return how many were deleted."""
        return run_sync(ops.delete_all(self._checkpoints, task_id), self._client)


class AsyncCheckpointAPI(_CheckpointCore):
    """Task checkpoints (async). Same names as the sync API."""

    async def save_checkpoint(self, checkpoint: Checkpoint, ttl: Any = None) -> Checkpoint:
        """Save atomically (one round trip); return it with its ``id``. ``ttl`` in ms.

        Raises ``ValueError`` if a higher sequence is already stored for the task.
        """
        op = ops.save(self._checkpoints, checkpoint, optional_ms(ttl))
        return await run_async(op, self._client)

    async def load_latest_checkpoint(self, task_id: str) -> Checkpoint | None:
        """The task's checkpoint with the highest sequence, or ``None`` (one round trip)."""
        return await run_async(ops.load_latest(self._checkpoints, task_id), self._client)

    async def load_checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        """The checkpoint with this id (as returned by ``save_checkpoint``), or ``None``."""
        return await run_async(ops.load(self._checkpoints, checkpoint_id), self._client)

    async def list_checkpoints(self, task_id: str) -> list[Checkpoint]:
        """The task's checkpoints by ascending sequence."""
        return await run_async(ops.list_(self._checkpoints, task_id), self._client)

    async def cleanup_checkpoints(self, task_id: str, keep: int) -> int:
        """Keep the task's newest ``keep`` checkpoints; return how many were deleted."""
        return await run_async(ops.cleanup(self._checkpoints, task_id, keep), self._client)

    async def delete_checkpoints(self, task_id: str) -> int:
        """Delete all of the task's checkpoints; return how many were deleted."""
        return await run_async(ops.delete_all(self._checkpoints, task_id), self._client)
