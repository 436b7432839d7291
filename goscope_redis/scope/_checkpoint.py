"""What a checkpointed task receives: ``ctx`` with ``ctx.checkpoint.data`` and ``.save()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from goscope_redis.checkpoint import Checkpoint

if TYPE_CHECKING:
    from goscope_redis.adapter import AsyncRedisAdapter, RedisAdapter

C = TypeVar("C", "SyncCheckpointer", "AsyncCheckpointer")


class _CheckpointerBase:
    """The task's latest checkpoint, as loaded when the attempt started and updated by saves.

    ``resumed`` is true when a previous run (or attempt) left a checkpoint to continue from.
    """

    __slots__ = ("data", "progress", "resumed", "sequence", "task_id")

    def __init__(self, task_id: str, latest: Checkpoint | None) -> None:
        self.task_id = task_id
        self.resumed = latest is not None
        self.data: Any = latest.data if latest is not None else None
        self.progress: float = latest.progress if latest is not None else 0.0
        self.sequence: int = latest.sequence if latest is not None else -1

    def _next(self, data: Any, progress: float | None) -> Checkpoint:
        return Checkpoint(
            self.task_id,
            self.sequence + 1,
            data,
            self.progress if progress is None else progress,
        )

    def _saved(self, cp: Checkpoint) -> Checkpoint:
        self.data, self.progress, self.sequence = cp.data, cp.progress, cp.sequence
        return cp

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(task_id={self.task_id!r}, sequence={self.sequence}, "
            f"progress={self.progress})"
        )


class SyncCheckpointer(_CheckpointerBase):
    """``ctx.checkpoint`` in a sync scope."""

    __slots__ = ("_adapter",)

    def __init__(self, adapter: RedisAdapter, task_id: str, latest: Checkpoint | None) -> None:
        super().__init__(task_id, latest)
        self._adapter = adapter

    def save(self, data: Any, progress: float | None = None) -> Checkpoint:
        """Persist ``data`` (and ``progress``, 0-100; default: unchanged) in one round trip."""
        return self._saved(self._adapter.save_checkpoint(self._next(data, progress)))


class AsyncCheckpointer(_CheckpointerBase):
    """``ctx.checkpoint`` in an async scope."""

    __slots__ = ("_adapter",)

    def __init__(self, adapter: AsyncRedisAdapter, task_id: str, latest: Checkpoint | None) -> None:
        super().__init__(task_id, latest)
        self._adapter = adapter

    async def save(self, data: Any, progress: float | None = None) -> Checkpoint:
        """Persist ``data`` (and ``progress``, 0-100; default: unchanged) in one round trip."""
        return self._saved(await self._adapter.save_checkpoint(self._next(data, progress)))


@dataclass(frozen=True, slots=True)
class TaskContext(Generic[C]):
    """Passed as the first argument to a task run with ``checkpoint=True``.

    ``checkpoint.data`` is the latest saved data (``None`` on a fresh start); ``attempt``
    counts from 1 when ``retry`` runs the task again; ``scope`` is the scope running it.
    """

    task_id: str
    attempt: int
    checkpoint: C
    scope: Any
