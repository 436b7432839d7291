-- Extend an in-progress claim's lease; only the claim's owner may.
-- KEYS[1] record hash; ARGV[1] owner token, ARGV[2] lease ms
-- Returns 1 when extended, else 0 (taken over, finished or gone).
local cur = redis.call('HMGET', KEYS[1], 's', 'o')
if cur[1] == 'run' and cur[2] == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
