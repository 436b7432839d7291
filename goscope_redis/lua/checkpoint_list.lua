-- Every existing checkpoint of a task, in ascending sequence order.
-- KEYS[1] the task's index; ARGV[1] the head of its data keys (same hash tag as the index)
-- Returns a list of encoded records (index entries whose data expired are skipped).
local out = {}
for _, seq in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local data = redis.call('GET', ARGV[1] .. seq)
  if data then
    out[#out + 1] = data
  end
end
return out
