-- Set a lock's ttl to ARGV[2] ms only if ARGV[1] still owns it.
-- KEYS[1] lock key; ARGV[1] owner, ARGV[2] ttl ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
