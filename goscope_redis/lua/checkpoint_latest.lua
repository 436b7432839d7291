-- The newest checkpoint of a task that still exists (a data key may have expired before its
-- index entry), found through the index by numeric sequence.
-- KEYS[1] the task's index; ARGV[1] the head of its data keys ('<prefix>checkpoint:{<task>}:')
-- The data keys share the index's hash tag, so they live in the same Cluster slot.
-- Returns the encoded record, or false when the task has none.
local start = 0
while true do
  local members = redis.call('ZREVRANGE', KEYS[1], start, start + 15)
  if #members == 0 then
    return false
  end
  for _, seq in ipairs(members) do
    local data = redis.call('GET', ARGV[1] .. seq)
    if data then
      return data
    end
  end
  start = start + 16
end
