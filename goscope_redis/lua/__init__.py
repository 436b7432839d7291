"""Lua scripts, one file each, loaded by :mod:`goscope_redis.scripts`."""
