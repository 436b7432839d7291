-- Record one success (see goscope_redis/ops/circuit.py).
-- KEYS[1] state hash, KEYS[2] probe leases
-- ARGV[1] probe token or '', ARGV[2] success threshold, ARGV[3] idle ttl ms of a closed record
-- (0: leave the record's expiry alone), ARGV[4] '1' for record_success (a success reported
-- without a lease closes a half-open breaker and creates a missing record)
-- Returns {state (0 closed, 1 open, 2 half-open, -1 no record), closed (1 if this call closed it)}
local leased = ARGV[1] ~= '' and redis.call('ZREM', KEYS[2], ARGV[1]) == 1
local direct = ARGV[4] == '1'
local state = redis.call('HGET', KEYS[1], 'state')
if not state and not direct then
  return {-1, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local closed = 0
if state == 'half-open' and (leased or direct) then
  redis.call('HSET', KEYS[1], 'last_success', now)
  local successes = redis.call('HINCRBY', KEYS[1], 'probe_successes', 1)
  if not direct and successes < tonumber(ARGV[2]) then
    return {2, 0}
  end
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'probe_successes', 0)
  redis.call('HDEL', KEYS[1], 'opened_at')
  redis.call('DEL', KEYS[2])
  closed = 1
elseif not state or state == 'closed' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'last_success', now)
else
  -- Open, or half-open without a lease: a call admitted before the breaker tripped (or a probe
  -- whose lease ran out) must not close it.
  if direct then
    redis.call('HSET', KEYS[1], 'last_success', now)
  end
  return {state == 'open' and 1 or 2, 0}
end
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {0, closed}
