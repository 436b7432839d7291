-- Admit one call through a shared circuit breaker (see goscope_redis/ops/circuit.py).
-- KEYS[1] state hash, KEYS[2] probe leases (sorted set: token -> lease deadline, Redis ms)
-- ARGV[1] reset_timeout ms, ARGV[2] half_open_max_calls, ARGV[3] probe lease ms, ARGV[4] token
-- Returns {0, failure_count}    closed: run the call (nothing was written)
--         {1, half_opened}      half-open: run the call as a probe holding ARGV[4]'s lease
--         {2, retry_after_ms}   refused: open, or every probe slot is leased
local rec = redis.call('HMGET', KEYS[1], 'state', 'failures', 'opened_at')
local state = rec[1]
if not state or state == 'closed' then
  -- The hot path: one read, no write, no TIME.
  return {0, tonumber(rec[2] or '0')}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local moved = 0
if state == 'open' then
  local due = tonumber(rec[3] or '0') + tonumber(ARGV[1])
  if now < due then
    return {2, due - now}
  end
  redis.call('HSET', KEYS[1], 'state', 'half-open', 'probe_successes', 0)
  redis.call('DEL', KEYS[2])
  moved = 1
end
-- Half-open: a lease whose deadline passed belongs to a probe that died or overran; free it.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, math.max(1, tonumber(first[2]) - now)}
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
-- The set itself lives no longer than its newest lease.
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, moved}
