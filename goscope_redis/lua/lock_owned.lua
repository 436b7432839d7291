-- Return the remaining ms of the lock if ARGV[1] owns it, else -1.
-- KEYS[1] lock key; ARGV[1] owner
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PTTL', KEYS[1])
end
return -1
