-- Release a lock only if ARGV[1] still owns it, and wake one waiter.
-- KEYS[1] lock key, KEYS[2] wake-up signal list
-- ARGV[1] owner, ARGV[2] signal ttl ms
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
-- One token is enough: only one waiter can win the lock. Keeping at most one avoids a backlog.
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
