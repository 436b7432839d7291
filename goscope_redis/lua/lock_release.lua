-- Release a lock only if ARGV[1] still owns it, and wake one waiter unless one is polling.
-- KEYS[1] lock key, KEYS[2] wake-up signal list, KEYS[3] poller, KEYS[4] turn list (the parked
-- starving waiter's own wake-up)
-- ARGV[1] owner, ARGV[2] signal ttl ms
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local poller = redis.call('GET', KEYS[3])
if poller then
  -- A polling waiter retries within milliseconds anyway (and, woken or not, whoever fails next
  -- becomes the poller), so no token: no waiter is woken just to find the lock taken again.
  -- Unless the poller is the waiter that reserved this turn, parked: it alone is woken, on its
  -- own list.
  if string.sub(poller, -2) == '\n!' then
    -- The token lives as long as the parked role: a waiter that takes the role later must not
    -- find it.
    redis.call('RPUSH', KEYS[4], '1')
    redis.call('PEXPIRE', KEYS[4], math.max(redis.call('PTTL', KEYS[3]), 1))
  end
  return 1
end
-- One token is enough: only one waiter can win the lock. Keeping at most one avoids a backlog
-- (a token list exists only while it holds one).
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
