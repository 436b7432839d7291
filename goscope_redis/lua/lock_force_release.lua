-- Delete a lock whoever holds it, and wake one waiter.
-- KEYS[1] lock key, KEYS[2] wake-up signal list; ARGV[1] signal ttl ms
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
