-- Claim an idempotency key, or report why not. See goscope_redis/ops/idempotency.py.
-- KEYS[1] record hash; ARGV[1] owner token, ARGV[2] lease ms, ARGV[3] fingerprint ('' = none)
-- Returns {'started'} | {'mismatch'} | {'in_progress', remaining lease ms}
--       | {'ok' or 'err', encoded value, PTTL, Redis TIME in ms}.
local rec = redis.call('HMGET', KEYS[1], 's', 'f', 'v')
if not rec[1] then
  -- Absent, or its lease ran out (the key expired): this caller takes it.
  redis.call('DEL', KEYS[1])
  -- 't' (Redis TIME, ms) is when the record entered its current state; operators read its age.
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  redis.call('HSET', KEYS[1], 's', 'run', 'o', ARGV[1], 'f', ARGV[3], 't', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'started'}
end
-- Fingerprints are compared only when both sides have one.
local stored = rec[2] or ''
if stored ~= '' and ARGV[3] ~= '' and stored ~= ARGV[3] then
  return {'mismatch'}
end
if rec[1] == 'run' then
  return {'in_progress', redis.call('PTTL', KEYS[1])}
end
local now = redis.call('TIME')
return {rec[1], rec[3], redis.call('PTTL', KEYS[1]), now[1] * 1000 + math.floor(now[2] / 1000)}
