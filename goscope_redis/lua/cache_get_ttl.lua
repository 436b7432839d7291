-- Read a cache value and its remaining lease in one round trip (Redis time, not the worker's).
-- KEYS[1] cache key. Returns {value or false, pttl}.
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
