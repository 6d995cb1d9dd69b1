"""The Lua scripts of the shared state: every read-modify-write happens inside Redis, in one step.

Redis runs a script atomically, so no other worker sees or changes a breaker, a bucket or the cache index
half-way. Scripts are sent by SHA1 (``EVALSHA``) and only sent whole (``EVAL``, which loads them) when Redis
answers ``NOSCRIPT``: after a restart, a ``FLUSHALL``/``SCRIPT FLUSH``, or on first use.

Time is the Redis server's clock (``TIME``), the same for every worker on every host; a test may pass its own
time as the first argument instead (an empty string means "ask Redis"). Numbers leave a script as strings:
Redis would truncate a Lua float to an integer.

The pieces are Lua functions joined into scripts, so a later script can combine them (one round trip for a
call's breaker check and limiter slot, say) and a new counter (a budget) is one more function.
"""

from __future__ import annotations

import hashlib

_PRELUDE = """
local function now_of(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
-- A stored value that is not a finite number (another app's, a hand edit) reads as the default: a shared
-- Redis is a trust boundary, and a garbled field must not break a call nor a script.
local function num(value, default)
  local n = tonumber(value)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return default end
  return n
end
local function incr(key, field, by)
  local n = num(redis.call('HGET', key, field), 0) + by
  redis.call('HSET', key, field, tostring(n))
  return n
end
"""

# A breaker is one hash: state (closed | open | half-open), failures (consecutive, while closed), opened (time),
# gen (how many times it opened: outcomes of calls admitted earlier are stale), trial (id of the latest trial
# call), lease (time until which that trial is in flight; after it, the next call is a trial); and for
# client.breaker_stats, as every worker saw them: last_failure (what the last server-side failure said),
# failed_at and opened_at (Unix times of the worker's wall clock).
_BREAKER = """
local function state_of(value)
  if value == 'open' or value == 'half-open' then return value end
  return 'closed'
end

local function breaker_admit(key, now, reset)
  local b = redis.call('HMGET', key, 'state', 'failures', 'opened', 'gen', 'lease')
  local state = state_of(b[1])
  local gen = num(b[4], 0)
  if state == 'closed' then return {'closed', gen, num(b[2], 0), 0, '0'} end
  if state == 'open' then
    local remaining = num(b[3], 0) + reset - now
    if remaining > 0 then return {'open', gen, 0, 0, tostring(remaining)} end
    redis.call('HSET', key, 'state', 'half-open')
  end
  local lease = num(b[5], 0)
  if lease > now then return {'busy', gen, 0, 0, tostring(lease - now)} end
  local trial = incr(key, 'trial', 1)
  redis.call('HSET', key, 'lease', tostring(now + reset))
  return {'trial', gen, 0, trial, '0'}
end

local function breaker_record(key, now, outcome, trial, gen, fail_max, what, wall)
  local b = redis.call('HMGET', key, 'state', 'gen', 'trial')
  local state = state_of(b[1])
  if outcome == 'failure' and what ~= nil and what ~= '' then
    redis.call('HSET', key, 'last_failure', what, 'failed_at', wall)
  end
  if trial > 0 then
    if state ~= 'half-open' or num(b[3], 0) ~= trial then return 'stale' end
    if outcome == 'release' then
      redis.call('HSET', key, 'lease', '0')
      return ''
    end
    if outcome == 'success' then
      redis.call('HSET', key, 'state', 'closed', 'failures', '0', 'lease', '0')
      return 'closed'
    end
    redis.call('HSET', key, 'state', 'open', 'opened', tostring(now), 'lease', '0', 'opened_at', wall)
    incr(key, 'gen', 1)
    return 'open'
  end
  if state ~= 'closed' or num(b[2], 0) ~= gen then return 'stale' end
  if outcome == 'success' then
    redis.call('HSET', key, 'failures', '0')
    return ''
  end
  local failures = incr(key, 'failures', 1)
  if failures >= fail_max then
    redis.call('HSET', key, 'state', 'open', 'opened', tostring(now), 'opened_at', wall)
    incr(key, 'gen', 1)
    return 'open'
  end
  return ''
end

-- {state, failures, last_failure, failed_at, opened_at, times opened}: the last four for breaker_stats
local function breaker_peek(key, now, reset)
  local b = redis.call('HMGET', key, 'state', 'failures', 'opened', 'last_failure', 'failed_at', 'opened_at', 'gen')
  local state = state_of(b[1])
  if state == 'open' and num(b[3], 0) + reset - now <= 0 then state = 'half-open' end
  return {state, num(b[2], 0), b[4] or '', b[5] or '', b[6] or '', num(b[7], 0)}
end
"""

# A rate limiter is one hash: req and tok (what is left in each bucket, negative while slots are reserved
# ahead) and stamp (when they were last brought up to date). It expires once both buckets would be full.
_LIMITER = """
local function limit_take(key, now, rr, rc, tr, tc, cost, max_wait, left, settle)
  local v = redis.call('HMGET', key, 'req', 'tok', 'stamp')
  if settle ~= 0 and v[2] then v[2] = tostring(math.min(tc, num(v[2], tc) + settle)) end
  local elapsed = math.max(0, now - num(v[3], now))
  local wait, req, tok = 0, 0, 0
  if rr > 0 then
    req = math.min(rc, num(v[1], rc) + elapsed * rr)
    wait = math.max(wait, (1 - req) / rr)
  end
  if tr > 0 then
    cost = math.min(cost, tc)
    tok = math.min(tc, num(v[2], tc) + elapsed * tr)
    wait = math.max(wait, (cost - tok) / tr)
  end
  if wait > max_wait then return {1, tostring(wait)} end
  if wait > 0 and left >= 0 and wait > left then return {2, tostring(wait)} end
  local full = 0
  if rr > 0 then
    req = req - 1
    full = math.max(full, (rc - req) / rr)
  end
  if tr > 0 then
    tok = tok - cost
    full = math.max(full, (tc - tok) / tr)
  end
  redis.call('HSET', key, 'req', tostring(req), 'tok', tostring(tok), 'stamp', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(full * 1000) + 1000)
  return {0, tostring(wait)}
end

local function limit_settle(key, tc, delta)
  local tok = redis.call('HGET', key, 'tok')
  if not tok then return 0 end
  redis.call('HSET', key, 'tok', tostring(math.min(tc, num(tok, tc) + delta)))
  return 1
end
"""

# The cache: one string per answer (JSON, with a TTL), a sorted set indexing them by last use (to drop the
# least recently used beyond maxsize, and those past their TTL), and a hash of hit and miss counts.
_CACHE = """
local function cache_get(entry, index, stats, now, member)
  local value = redis.call('GET', entry)
  if value then
    redis.call('ZADD', index, 'XX', now, member)
    incr(stats, 'hits', 1)
  else
    incr(stats, 'misses', 1)
  end
  return value
end

local function cache_put(entry, index, now, member, value, ttl, maxsize, prefix)
  redis.call('SET', entry, value, 'PX', math.ceil(ttl * 1000))
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. tostring(now - ttl))
  redis.call('ZADD', index, now, member)
  local extra = redis.call('ZCARD', index) - maxsize
  if extra > 0 then
    local gone = redis.call('ZPOPMIN', index, extra)
    for i = 1, #gone, 2 do redis.call('DEL', prefix .. gone[i]) end
  end
  redis.call('PEXPIRE', index, math.ceil(ttl * 1000))
  return 1
end
"""


class Script:
    """A Lua script and its SHA1 (the name ``EVALSHA`` knows it by)."""

    __slots__ = ("name", "sha", "source")

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"<Script {self.name} {self.sha[:8]}>"


BREAKER_ADMIT = Script("breaker_admit", _PRELUDE + _BREAKER + """
return breaker_admit(KEYS[1], now_of(ARGV[1]), tonumber(ARGV[2]))
""")

BREAKER_RECORD = Script("breaker_record", _PRELUDE + _BREAKER + """
return breaker_record(KEYS[1], now_of(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
                      ARGV[6], ARGV[7])
""")

BREAKER_PEEK = Script("breaker_peek", _PRELUDE + _BREAKER + """
return breaker_peek(KEYS[1], now_of(ARGV[1]), tonumber(ARGV[2]))
""")

LIMIT_TAKE = Script("limit_take", _PRELUDE + _LIMITER + """
return limit_take(KEYS[1], now_of(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
                  tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
""")

LIMIT_SETTLE = Script("limit_settle", _PRELUDE + _LIMITER + """
return limit_settle(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
""")

# A call's way in, in one round trip: the breaker's verdict, then a rate-limit slot, then (only if both said
# yes) the admission, so an open circuit takes no slot and a refused slot takes no trial. Its reply is that of
# breaker_admit plus the limiter's wait, or {'limit', code, wait} when the limiter refused.
ENTER = Script("enter", _PRELUDE + _BREAKER + _LIMITER + """
local now = now_of(ARGV[1])
local breaker = ARGV[2] == '1'
local reset = tonumber(ARGV[3])
if breaker then
  local b = redis.call('HMGET', KEYS[1], 'state', 'opened', 'gen', 'lease')
  local state = state_of(b[1])
  if state == 'open' and num(b[2], 0) + reset - now > 0 then
    return {'open', num(b[3], 0), 0, 0, tostring(num(b[2], 0) + reset - now), '0'}
  end
  if state ~= 'closed' and num(b[4], 0) > now then
    return {'busy', num(b[3], 0), 0, 0, tostring(num(b[4], 0) - now), '0'}
  end
end
local wait = '0'
if ARGV[4] == '1' then
  local taken = limit_take(KEYS[2], now, tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]),
                           tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]))
  if taken[1] ~= 0 then return {'limit', taken[1], taken[2]} end
  wait = taken[2]
end
if not breaker then return {'closed', 0, 0, 0, '0', wait} end
local admitted = breaker_admit(KEYS[1], now, reset)
admitted[6] = wait
return admitted
""")

CACHE_GET = Script("cache_get", _PRELUDE + _CACHE + """
return cache_get(KEYS[1], KEYS[2], KEYS[3], now_of(ARGV[1]), ARGV[2])
""")

CACHE_PUT = Script("cache_put", _PRELUDE + _CACHE + """
return cache_put(KEYS[1], KEYS[2], now_of(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
""")

CACHE_INFO = Script("cache_info", _PRELUDE + """
local now = now_of(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - tonumber(ARGV[2])))
local counts = redis.call('HMGET', KEYS[2], 'hits', 'misses')
return {redis.call('ZCARD', KEYS[1]), num(counts[1], 0), num(counts[2], 0)}
""")

CACHE_DROP = Script("cache_drop", _PRELUDE + """
-- an entry that did not decode: gone, and its hit counted as the miss it was
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  incr(KEYS[3], 'hits', -1)
  incr(KEYS[3], 'misses', 1)
end
return 1
""")

CACHE_CLEAR = Script("cache_clear", _PRELUDE + """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, member in ipairs(members) do redis.call('DEL', ARGV[1] .. member) end
redis.call('DEL', KEYS[1], KEYS[2])
return #members
""")

# A mark set once, for a given time: 1 the first time (the caller goes on), 0 after. A job's results are booked
# once across every worker (pepperpy.observe.ledger).
CLAIM = Script("claim", """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', math.ceil(tonumber(ARGV[1]) * 1000)) then return 1 end
return 0
""")

# The seam for budgets (issue 17): add to a counter unless the total would pass a limit, in one step.
COUNTER_ADD = Script("counter_add", _PRELUDE + """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if ARGV[2] ~= '' and amount > 0 and current + amount > tonumber(ARGV[2]) then return {0, tostring(current)} end
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[3])
if ttl > 0 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000)) end
return {1, total}
""")
