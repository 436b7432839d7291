-- Acquire a lock, or refresh it when the same owner asks again.
-- KEYS[1] lock key, KEYS[2] fence counter (no expiry, so tokens keep rising after the lock expires)
-- ARGV[1] owner, ARGV[2] ttl ms
-- Returns {1, fencing_token} when held by ARGV[1] afterwards, else {0, holder's remaining ms}.
--
-- A new token is max(last token + 1, Redis TIME in microseconds). The counter alone would restart
-- at 1 after Redis loses its data (a restart without persistence, an AOF missing its last second,
-- a failover to a lagging replica); the clock floor keeps every token above those issued before
-- the loss, as long as the server clock does not step back by more than the outage lasted.
-- (Doubles hold integers exactly up to 2^53: microseconds since 1970 stay below that until 2255.)
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local now = redis.call('TIME')
  local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, now[1] * 1000000 + now[2])
  redis.call('SET', KEYS[2], string.format('%.0f', token))
  return {1, token}
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  -- The newest token was issued to this owner: nobody can acquire while it holds the lock.
  local token = tonumber(redis.call('GET', KEYS[2]) or '0')
  if token == 0 then
    local now = redis.call('TIME')
    token = now[1] * 1000000 + now[2]
    redis.call('SET', KEYS[2], string.format('%.0f', token))
  end
  return {1, token}
end
return {0, redis.call('PTTL', KEYS[1])}
