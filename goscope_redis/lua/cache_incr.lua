-- Add ARGV[1] to an integer value, keeping its ttl; fail on a missing key when ARGV[2] == '1'.
-- KEYS[1] cache key. Returns {1, new value} or {0} for a missing key.
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return {0}
end
return {1, redis.call('INCRBY', KEYS[1], ARGV[1])}
