"""Pack a command in C, when that gives exactly the bytes redis-py would send.

redis-py packs a command in Python: a generator and an ``Encoder.encode`` call per argument,
about a third of the client-side cost of a nine-argument ``EVALSHA``. ``hiredis.pack_command``
produces the same RESP bytes in C for the same ``str``/``bytes``/``int``/``float`` arguments, as
long as ``str`` is encoded the way redis-py would (UTF-8, strict). Anything else (no hiredis,
another encoding, a ``bool``, a command name with a space) is left to redis-py, which packs
it, or explains why it can't. ``tests/ops/test_packing.py`` holds the two packers to the same
bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_pack_command: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack_command
except ImportError:  # hiredis is optional (the ``hiredis`` and ``fast`` extras)
    _pack_command = None


def packed(connection: Any, args: tuple[Any, ...]) -> list[bytes] | None:
    """``args`` as RESP for ``connection.send_packed_command`` (a list of chunks, as redis-py's
    own packer gives it), or ``None``: let redis-py pack them."""
    if _pack_command is None:
        return None
    encoder = connection.encoder
    if encoder.encoding != "utf-8" or encoder.encoding_errors != "strict":
        return None
    name = args[0]
    if " " in name if isinstance(name, str) else b" " in name:
        return None  # redis-py splits "CONFIG GET" into two words: leave that to it
    try:
        return [_pack_command(args)]
    except (TypeError, UnicodeError):
        return None
