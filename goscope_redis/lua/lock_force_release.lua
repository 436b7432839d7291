-- Delete a lock whoever holds it, and wake one waiter: the one parked on its reserved turn if
-- there is one (it alone may take the lock now), else one on the signal list.
-- KEYS[1] lock key, KEYS[2] wake-up signal list, KEYS[3] poller, KEYS[4] turn list
-- ARGV[1] signal ttl ms
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
local poller = redis.call('GET', KEYS[3])
if poller and string.sub(poller, -2) == '\n!' then
  redis.call('RPUSH', KEYS[4], '1')
  redis.call('PEXPIRE', KEYS[4], math.max(redis.call('PTTL', KEYS[3]), 1))
  return 1
end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
