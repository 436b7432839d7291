"""Effects: what a sans-IO operation asks its runner to do.

An operation is a generator. It yields effects, receives each reply via ``send`` (or the error
via ``throw``), and returns its result. The sync and async runners are the only code that
performs I/O, so keys, Lua and state transitions are written once and tested with scripted
replies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeAlias, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script, run with ``EVALSHA`` (``EVAL`` after a ``NOSCRIPT`` reply)."""

    name: str
    source: str
    sha: str

    @classmethod
    def load(cls, name: str) -> Script:
        """Load ``goscope_redis/lua/<name>.lua`` shipped in the package."""
        source = resources.files("goscope_redis.lua").joinpath(f"{name}.lua").read_text()
        return cls(name, source, hashlib.sha1(source.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Call:
    """One Redis command."""

    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Eval:
    """Run ``script`` with ``keys`` and ``args``; the reply is the script's raw return."""

    script: Script
    keys: Sequence[str]
    args: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Primaries:
    """Ask for every primary to walk: Cluster node handles, or ``[None]`` for one server.

    Only keyless walks need it (``SCAN`` for ``clear()``/``keys()``); keyed commands are routed
    by their hash tag.
    """


@dataclass(frozen=True, slots=True)
class NodeCall:
    """One command on one node from :class:`Primaries` (``None``: the client's only server)."""

    node: Any
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Batch:
    """Several commands in one round trip (a non-transactional pipeline).

    The reply is a list in order; a command that failed has its exception in its slot.
    """

    calls: Sequence[Call]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause for ``seconds`` (only used as a bounded fallback when no wake-up signal exists)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Clock:
    """Ask for the local monotonic clock (seconds). Only for local waits, never for leases."""


Effect: TypeAlias = Call | Eval | Batch | Sleep | Clock | Primaries | NodeCall
Op = Generator[Effect, Any, T]
"""An operation that returns ``T``."""
