"""``python -m goscope_redis``: the operator CLI (see :mod:`goscope_redis.cli`)."""

from __future__ import annotations

import sys

from goscope_redis.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
