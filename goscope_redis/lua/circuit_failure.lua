-- Record one failure (see goscope_redis/ops/circuit.py).
-- KEYS[1] state hash, KEYS[2] probe leases
-- ARGV[1] failure threshold, ARGV[2] probe token or '', ARGV[3] idle ttl ms of a closed record
-- (0: leave the record's expiry alone)
-- Returns {failure_count, state (0 closed, 1 open, 2 half-open), opened (1 if this call opened it)}
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[2])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_failure', now, 'state', state)
local opened = 0
-- Any failure in half-open re-opens; in closed, the threshold does. Open stays open: its
-- opened_at is never pushed back, so it half-opens exactly reset_timeout after it opened.
if state == 'half-open' or (state == 'closed' and failures >= tonumber(ARGV[1])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now, 'probe_successes', 0)
  redis.call('DEL', KEYS[2])
  state = 'open'
  opened = 1
end
if state ~= 'closed' then
  redis.call('PERSIST', KEYS[1])
  return {failures, state == 'open' and 1 or 2, opened}
end
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {failures, 0, 0}
