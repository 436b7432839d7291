-- Read a finished idempotency record with its expiry, in one round trip.
-- KEYS[1] record hash
-- Returns {'ok' or 'err', encoded value, PTTL, Redis TIME in ms}, or false when the key is
-- absent or still in progress.
local rec = redis.call('HMGET', KEYS[1], 's', 'v')
if not rec[1] or rec[1] == 'run' then
  return false
end
local now = redis.call('TIME')
return {rec[1], rec[2], redis.call('PTTL', KEYS[1]), now[1] * 1000 + math.floor(now[2] / 1000)}
