"""Read helpers: ``SCAN`` walks and pipelined reads, in batches that keep Redis responsive."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

SCAN_COUNT: Final = 1000
BATCH: Final = 500

Command = tuple[Any, ...]


def text(value: Any) -> str:
    """A reply as ``str`` (replies are bytes; the CLI's client does not decode them)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def scan_keys(client: Any, match: str) -> list[str]:
    """Every key matching ``match``, sorted and without the duplicates ``SCAN`` may return."""
    found = {text(key) for key in client.scan_iter(match=match, count=SCAN_COUNT)}
    return sorted(found)


def read_each(
    client: Any, keys: Sequence[str], commands: Callable[[str], list[Command]]
) -> Iterator[tuple[str, list[Any]]]:
    """Run ``commands(key)`` for every key, pipelined in batches; yield each key's replies."""
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        pipe = client.pipeline(transaction=False)
        sizes = []
        for key in chunk:
            cmds = commands(key)
            sizes.append(len(cmds))
            for cmd in cmds:
                pipe.execute_command(*cmd)
        replies = iter(pipe.execute())
        for key, size in zip(chunk, sizes):
            yield key, [next(replies) for _ in range(size)]
