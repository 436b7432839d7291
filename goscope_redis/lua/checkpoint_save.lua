-- Save one checkpoint and index it, refusing to move a task's progress backwards.
-- KEYS[1] data key of this sequence, KEYS[2] the task's index (sorted set, member = score = seq)
-- ARGV[1] sequence, ARGV[2] encoded record, ARGV[3] ttl ms ('0' = no expiry)
-- Returns {1} when saved, or {0, latest sequence} when a higher sequence is already stored.
-- An equal sequence overwrites: a retried save of the same checkpoint is harmless.
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0)
if top[1] and tonumber(top[1]) > tonumber(ARGV[1]) then
  return {0, top[1]}
end
local before = redis.call('PTTL', KEYS[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
-- The index lives as long as its longest-lived checkpoint: never shorter, so no checkpoint is
-- orphaned; persistent as soon as one checkpoint is.
if ttl == 0 then
  redis.call('PERSIST', KEYS[2])
elseif before == -2 then
  redis.call('PEXPIRE', KEYS[2], ttl)
elseif before >= 0 and before < ttl then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1}
