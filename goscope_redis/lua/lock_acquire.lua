-- Acquire a lock, or refresh it when the same owner asks again.
-- KEYS[1] lock key, KEYS[2] fence counter (no expiry, so tokens keep rising after the lock expires),
-- KEYS[3] poller (the one waiter that retries on a short interval: "<owner>\n<holder it saw>"),
-- KEYS[4] starving waiter (owner)
-- ARGV[1] owner, ARGV[2] ttl ms, ARGV[3] mode: '0' one try, '3' a waiter's first try, '1' a
-- waiter retrying, '2' a waiter that has waited past the starvation limit; ARGV[4] poller lease
-- ms, ARGV[5] starving lease ms, ARGV[6] parked lease ms (all three only from waiters)
-- Returns {1, fencing_token} when held by ARGV[1] afterwards, else {0, retry, poll}: retry is the
-- holder's remaining ms (-1: no expiry; -2: free, but kept for a starving waiter), and poll is 1
-- when this waiter must retry within the poll interval (releases do not wake anyone meanwhile),
-- 2 when it is the starving waiter, parked until the release wakes exactly it (the turn list).
--
-- A new token is max(last token + 1, Redis TIME in microseconds). The counter alone would restart
-- at 1 after Redis loses its data (a restart without persistence, an AOF missing its last second,
-- a failover to a lagging replica); the clock floor keeps every token above those issued before
-- the loss, as long as the server clock does not step back by more than the outage lasted.
-- (Doubles hold integers exactly up to 2^53: microseconds since 1970 stay below that until 2255.)
local owner = ARGV[1]

local function issue()
  local now = redis.call('TIME')
  local micros = now[2]
  local clock = now[1] * 1000000 + micros
  -- The clock as text, joined from TIME's two parts: exact, and cheaper than formatting the
  -- double (string.format('%.0f') cost over 1 us a lock here, more than a whole redis.call).
  local text = now[1] .. string.rep('0', 6 - #micros) .. micros
  -- One SET ... GET writes the usual token (the clock) and reads the last one in a single call;
  -- only when the last token is not below the clock (two in one microsecond, or a clock behind
  -- the counter) is it corrected to last + 1.
  local last = tonumber(redis.call('SET', KEYS[2], text, 'GET') or '0')
  if last < clock then
    return clock
  end
  redis.call('SET', KEYS[2], string.format('%.0f', last + 1))
  return last + 1
end

-- Free, and no other waiter has reserved the next turn: take it. (Under contention this is also
-- how a holder takes the lock again, so it reads no more than it must: the poller key only for
-- a waiter past its first try, the one kind that may hold the polling role.)
local starving = redis.call('GET', KEYS[4])
local mode = ARGV[3]
if (not starving or starving == owner) and redis.call('SET', KEYS[1], owner, 'NX', 'PX', ARGV[2]) then
  if starving then
    redis.call('DEL', KEYS[4])
  end
  if mode == '1' or mode == '2' then
    local poller = redis.call('GET', KEYS[3])
    if poller and string.sub(poller, 1, #owner + 1) == owner .. '\n' then
      redis.call('DEL', KEYS[3])
    end
  end
  return {1, issue()}
end
local holder = redis.call('GET', KEYS[1])
local retry = -2
if holder == owner then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  -- The newest token was issued to this owner: nobody can acquire while it holds the lock.
  local token = tonumber(redis.call('GET', KEYS[2]) or '0')
  if token == 0 then
    local now = redis.call('TIME')
    token = now[1] * 1000000 + now[2]
    redis.call('SET', KEYS[2], string.format('%.0f', token))
  end
  return {1, token}
elseif holder then
  retry = redis.call('PTTL', KEYS[1])
end
-- (Not held by anyone, yet not taken: another waiter has reserved the turn; retry stays -2.)
if mode == '0' then
  return {0, retry, 0}
end
-- A waiter. One of them polls, so releases need not wake anybody while it does: a holder that
-- takes the lock again at once then runs at full speed instead of waking a waiter per release.
-- The poller remembers the holder it saw; finding the same one again means a long hold, so it
-- stops polling and waits to be woken by that release like everybody else. One that has waited
-- too long reserves the next turn (no barging past it) and takes over the polling.
if mode == '2' and (not starving or starving == owner) then
  redis.call('SET', KEYS[4], owner, 'PX', ARGV[5])
  starving = owner
end
local poller = redis.call('GET', KEYS[3])
local mine = owner .. '\n'
if starving == owner or not poller or string.sub(poller, 1, #mine) == mine then
  local seen = mine .. (holder or '')
  if starving == owner and holder then
    -- The waiter that reserved the next turn takes the role marked parked, and blocks on the
    -- turn list, which the release pushes to for it alone: it is woken the moment the lock is
    -- free for it. (On the signal list, a waiter blocked there before it would take the token,
    -- and the lock would idle until the reservation lapsed.) Its retries renew both leases.
    redis.call('SET', KEYS[3], seen .. '\n!', 'PX', ARGV[6])
    redis.call('PEXPIRE', KEYS[4], ARGV[6])
    return {0, retry, 2}
  end
  if poller == seen and holder then
    redis.call('DEL', KEYS[3])
    return {0, retry, 0}
  end
  redis.call('SET', KEYS[3], seen, 'PX', ARGV[4])
  return {0, retry, 1}
end
return {0, retry, 0}
