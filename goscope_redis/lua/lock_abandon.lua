-- A waiter gives up (its wait ran out): drop its polling role and its reserved turn, if it has
-- them, so the next acquire need not wait for them to lapse.
-- KEYS[1] poller ("<owner>\n<holder>"), KEYS[2] starving waiter; ARGV[1] owner
local poller = redis.call('GET', KEYS[1])
if poller and string.sub(poller, 1, #ARGV[1] + 1) == ARGV[1] .. '\n' then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return 1
