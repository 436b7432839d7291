"""The operator CLI: ``python -m goscope_redis`` (also installed as ``goscope-redis``).

It shows what goscope-redis holds in Redis right now: locks, breakers, idempotency records,
checkpoints and counts per kind. Every read walks ``SCAN`` (never ``KEYS``), and the only
command that writes is ``clear-cache``, which asks first. One module per subcommand.
"""

from goscope_redis.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
