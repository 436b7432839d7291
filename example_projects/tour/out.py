"""How the tour prints: section titles, aligned lines, and the import's progress bar."""

from __future__ import annotations

import sys

WIDTH = 20


def say(text: str = "") -> None:
    """Print a line at once (the tour is watched live)."""
    print(text, flush=True)
    sys.stdout.flush()


def section(number: int, total: int, title: str) -> None:
    """A numbered section title."""
    say()
    say(f"[{number}/{total}] {title}")


def step(what: str, pid: int | str, outcome: str) -> None:
    """One request: what was sent, which worker served it, what came back."""
    say(f"  {what:<38} worker {pid!s:<6} -> {outcome}")


def note(text: str) -> None:
    """An explanatory line."""
    say(f"  {text}")


def verdict(ok: bool, claim: str) -> None:
    """A checked claim."""
    say(f"  {'ok  ' if ok else 'FAIL'} {claim}")


def bar(progress: float) -> str:
    """``[########............]`` for ``progress`` percent."""
    filled = max(0, min(WIDTH, round(progress / 100 * WIDTH)))
    return "[" + "#" * filled + "." * (WIDTH - filled) + f"] {progress:5.1f}%"
