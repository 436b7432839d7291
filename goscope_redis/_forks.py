"""The fork generation: 0 in the process that imported this, one more in each forked child.

What must not cross a ``fork`` (a socket in use, a thread that exists only in the parent)
records the generation it was made in and rebuilds itself when that changed: an integer
comparison per use, where ``os.getpid()`` is a system call. Read it as ``_forks.generation``
(a module attribute, so every reader sees the bump).
"""

from __future__ import annotations

import os

generation = 0


def _forked() -> None:
    global generation
    generation += 1


os.register_at_fork(after_in_child=_forked)
