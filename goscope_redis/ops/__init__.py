"""Sans-IO operations: each is a generator of effects (see :mod:`goscope_redis.effects`)."""
