"""Errors specific to the Django integration."""

from __future__ import annotations

import pickle

from goscope_redis import SerializationError


class CacheSerializationError(SerializationError, pickle.PicklingError):
    """A value could not be stored: both :class:`goscope_redis.SerializationError` and
    ``pickle.PickleError``, which is what Django's cache contract expects from a backend."""

    def __init__(self, original: SerializationError) -> None:
        self.key = original.key
        self.value_type = original.value_type
        Exception.__init__(self, *original.args)
