-- Release a lock only if ARGV[1] still owns it, and wake one waiter unless one is polling.
-- KEYS[1] lock key, KEYS[2] wake-up signal list, KEYS[3] poller
-- ARGV[1] owner, ARGV[2] signal ttl ms
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
-- One token is enough: only one waiter can win the lock. Keeping at most one avoids a backlog
-- (a token list exists only while it holds one).
-- A polling waiter retries within milliseconds anyway (and, woken or not, whoever fails next
-- becomes the poller), so no token then: no waiter is woken just to find the lock taken again.
if redis.call('EXISTS', KEYS[2], KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
