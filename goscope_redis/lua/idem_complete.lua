-- Store a finished result ('ok') or failure ('err') under an idempotency key.
-- KEYS[1] record hash
-- ARGV[1] owner token of the claim ('' = unconditional, for the plain set()), ARGV[2] 'ok'|'err',
-- ARGV[3] encoded value, ARGV[4] ttl ms ('0' = no expiry), ARGV[5] fingerprint ('' = none)
-- Returns 1 when stored, 0 when another owner's claim (or a finished record) is in the way.
-- An absent record is stored too: the lease ran out and nobody took over, so nothing newer
-- exists, and keeping the result spares a retry from running the work twice.
if ARGV[1] ~= '' then
  local cur = redis.call('HMGET', KEYS[1], 's', 'o')
  if cur[1] and (cur[1] ~= 'run' or cur[2] ~= ARGV[1]) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
-- 't' (Redis TIME, ms): when the result was stored, so operators can read a record's age.
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 's', ARGV[2], 'f', ARGV[5], 'v', ARGV[3], 't', t[1] * 1000 + math.floor(t[2] / 1000))
if tonumber(ARGV[4]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
