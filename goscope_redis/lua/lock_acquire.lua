-- Acquire a lock, or refresh it when the same owner asks again.
-- KEYS[1] lock key, KEYS[2] fence counter (no expiry, so tokens keep rising after the lock expires)
-- ARGV[1] owner, ARGV[2] ttl ms
-- Returns {1, fencing_token} when held by ARGV[1] afterwards, else {0, holder's remaining ms}.
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, redis.call('INCR', KEYS[2])}
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  -- The newest token was issued to this owner: nobody can acquire while it holds the lock.
  local token = tonumber(redis.call('GET', KEYS[2]) or '0')
  if token == 0 then token = redis.call('INCR', KEYS[2]) end
  return {1, token}
end
return {0, redis.call('PTTL', KEYS[1])}
