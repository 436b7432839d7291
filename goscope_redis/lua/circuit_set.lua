-- Overwrite a breaker's record (an operator's set_state; see goscope_redis/ops/circuit.py).
-- KEYS[1] state hash, KEYS[2] probe leases
-- ARGV[1] state, ARGV[2] failure count, ARGV[3] last failure ms, ARGV[4] last success ms,
-- ARGV[5] opened_at ms ('' for none; an open or half-open state without one opens now)
-- Outstanding probe leases are dropped, so a half-open state starts a fresh round of probes.
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'failures', ARGV[2], 'probe_successes', 0)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'last_failure', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'last_success', ARGV[4]) end
local opened_at = ARGV[5]
if opened_at == '' and ARGV[1] ~= 'closed' then
  local t = redis.call('TIME')
  opened_at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if opened_at ~= '' then redis.call('HSET', KEYS[1], 'opened_at', opened_at) end
return 1
