-- Give up a claim so the next begin() starts afresh; only the claim's owner may.
-- KEYS[1] record hash; ARGV[1] owner token
-- Returns 1 when the in-progress record was deleted, else 0 (taken over, finished or gone).
local cur = redis.call('HMGET', KEYS[1], 's', 'o')
if cur[1] == 'run' and cur[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
