-- Keep a task's newest ARGV[2] existing checkpoints and delete the others (ARGV[2] = 0: all).
-- KEYS[1] the task's index; ARGV[1] the head of its data keys (same hash tag as the index)
-- Index entries whose data already expired are dropped on the way.
-- Returns how many checkpoints were deleted.
local keep = tonumber(ARGV[2])
local live, deleted = 0, 0
for _, seq in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. seq
  if redis.call('EXISTS', key) == 1 then
    live = live + 1
    if live > keep then
      redis.call('UNLINK', key)
      redis.call('ZREM', KEYS[1], seq)
      deleted = deleted + 1
    end
  else
    redis.call('ZREM', KEYS[1], seq)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
end
return deleted
