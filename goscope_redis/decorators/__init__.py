"""Decorators for sync and async functions: ``@cached``, ``@circuit``, ``@with_lock``,
``@idempotent``. Each picks its sync or async path once, at decoration time."""

from goscope_redis.decorators.cached import cached
from goscope_redis.decorators.circuit import circuit
from goscope_redis.decorators.idempotent import idempotent
from goscope_redis.decorators.with_lock import with_lock

__all__ = ["cached", "circuit", "idempotent", "with_lock"]
