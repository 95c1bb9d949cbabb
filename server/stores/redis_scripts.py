"""The Lua scripts of the Redis store: each runs atomically on the server, so a transition's
compare-and-set, version, event and index move, a rate-limit window's count or a timer's pop
happen whole or not at all, whichever process sends them.

Every key of one sandbox starts with its prefix ``{namespace:sandbox}`` (``ARGV[1]`` or
``KEYS[1]``): one Redis Cluster hash slot per sandbox, so these scripts stay on one shard.
Numbers that may be fractional go back as strings (Redis turns a Lua number into an integer),
and moments are kept as the text the caller sent (Lua's ``tostring`` keeps 14 digits only).

State that must exist is checked, not assumed: a campaign whose version, status or place in the
order is missing, or an index naming a campaign that is not there (keys evicted or deleted
behind the mock's back) answers an error starting ``LOST``, which the link turns into a 503 that
says so (it was a 500, or a listing with a total and no items). The writes compare their world's
epoch (kept in its clock hash, see ``redis_namespace``) first and answer ``EPOCH`` when it is not
this process's: a namespace lost or reset since the request began is not written into.
"""

from __future__ import annotations

# The first lines of every write: its world is still the one this process serves.
_EPOCH = """
if redis.call('HGET', p .. ':clock', 'epoch') ~= epoch then return redis.error_reply('EPOCH ' .. p) end
"""

BEGIN = """
-- At a request's start, in one round trip: the clock's reading, whether the fault plan is
-- empty, whether a timer is due at the mock's now, and the epoch the world's clock carries.
-- ARGV: prefix, the host's time.
local p = ARGV[1]
local clock = redis.call('HMGET', p .. ':clock', 'offset', 'frozen_at', 'epoch')
local faults = redis.call('HMGET', p .. ':faults', 'rules', 'version')
local now = tonumber(ARGV[2])
if clock[1] then
  if clock[2] and clock[2] ~= '' then now = tonumber(clock[2]) else now = now + tonumber(clock[1]) end
end
local due = redis.call('ZRANGEBYSCORE', p .. ':timers', '-inf', string.format('%.17g', now), 'LIMIT', 0, 1)
local empty = -1
if faults[2] then
  if faults[1] == '[]' then empty = 1 else empty = 0 end
end
return {clock[1] or false, clock[2] or false, empty, #due, clock[3] or false}
"""

INSERT = (
    """
-- ARGV: prefix, id, document, status, version, capacity, epoch, then the events
local p, id, epoch = ARGV[1], ARGV[2], ARGV[7]
"""
    + _EPOCH
    + """
if redis.call('HEXISTS', p .. ':docs', id) == 1 then return -1 end
local capacity = tonumber(ARGV[6])
if capacity >= 0 and redis.call('HLEN', p .. ':docs') >= capacity then return -2 end
local seq = redis.call('INCR', p .. ':seq')
redis.call('HSET', p .. ':docs', id, ARGV[3])
redis.call('HSET', p .. ':status', id, ARGV[4])
redis.call('HSET', p .. ':ver', id, ARGV[5])
redis.call('ZADD', p .. ':order', seq, id)
redis.call('ZADD', p .. ':st:' .. ARGV[4], seq, id)
for i = 8, #ARGV do redis.call('RPUSH', p .. ':ev:' .. id, ARGV[i]) end
return #ARGV - 7
"""
)

GET = """
local p, id = ARGV[1], ARGV[2]
local doc = redis.call('HGET', p .. ':docs', id)
if not doc then
  if redis.call('HEXISTS', p .. ':ver', id) == 1 then
    return redis.error_reply('LOST campaign ' .. id .. ' of ' .. p .. ' has a version but no document')
  end
  return false
end
local version = redis.call('HGET', p .. ':ver', id)
if not version then return redis.error_reply('LOST campaign ' .. id .. ' of ' .. p .. ' has no version') end
return {doc, version, redis.call('LLEN', p .. ':ev:' .. id)}
"""

REPLACE = (
    """
-- ARGV: prefix, id, expected version, document, status, event ('' for none), epoch
local p, id, epoch = ARGV[1], ARGV[2], ARGV[7]
"""
    + _EPOCH
    + """
local version = redis.call('HGET', p .. ':ver', id)
if (not version) or tonumber(version) ~= tonumber(ARGV[3]) then return false end
local before = redis.call('HGET', p .. ':status', id)
local seq = redis.call('ZSCORE', p .. ':order', id)
if (not before) or (not seq) then
  return redis.error_reply('LOST campaign ' .. id .. ' of ' .. p .. ' has no status or place in the order')
end
if before ~= ARGV[5] then
  redis.call('ZREM', p .. ':st:' .. before, id)
  redis.call('ZADD', p .. ':st:' .. ARGV[5], seq, id)
  redis.call('HSET', p .. ':status', id, ARGV[5])
end
redis.call('HSET', p .. ':docs', id, ARGV[4])
local now = redis.call('HINCRBY', p .. ':ver', id, 1)
local count
if ARGV[6] ~= '' then
  count = redis.call('RPUSH', p .. ':ev:' .. id, ARGV[6])
else
  count = redis.call('LLEN', p .. ':ev:' .. id)
end
return {now, count}
"""
)

DELETE = (
    """
-- ARGV: prefix, id, epoch
local p, id, epoch = ARGV[1], ARGV[2], ARGV[3]
"""
    + _EPOCH
    + """
local status = redis.call('HGET', p .. ':status', id)
if not status then
  if redis.call('HEXISTS', p .. ':docs', id) == 1 then
    return redis.error_reply('LOST campaign ' .. id .. ' of ' .. p .. ' has no status')
  end
  return 0
end
redis.call('HDEL', p .. ':docs', id)
redis.call('HDEL', p .. ':status', id)
redis.call('HDEL', p .. ':ver', id)
redis.call('ZREM', p .. ':order', id)
redis.call('ZREM', p .. ':st:' .. status, id)
redis.call('ZREM', p .. ':timers', id)
redis.call('DEL', p .. ':ev:' .. id)
return 1
"""
)

EVENTS = """
local p, id = ARGV[1], ARGV[2]
if redis.call('HEXISTS', p .. ':docs', id) == 0 then return false end
return {redis.call('LLEN', p .. ':ev:' .. id), redis.call('LRANGE', p .. ':ev:' .. id, ARGV[3], ARGV[4])}
"""

PAGE = """
-- ARGV: prefix, offset, last (-1: to the end), then the statuses (none: all campaigns)
local p = ARGV[1]
local key = p .. ':order'
local union = nil
if #ARGV == 4 then
  key = p .. ':st:' .. ARGV[4]
elseif #ARGV > 4 then
  local keys = {}
  for i = 4, #ARGV do keys[#keys + 1] = p .. ':st:' .. ARGV[i] end
  union = p .. ':page-union'
  redis.call('ZUNIONSTORE', union, #keys, unpack(keys))
  key = union
end
local total = redis.call('ZCARD', key)
local ids = redis.call('ZRANGE', key, ARGV[2], ARGV[3])
if union then redis.call('DEL', union) end
local docs = {}
for start = 1, #ids, 500 do
  local chunk = {}
  for i = start, math.min(start + 499, #ids) do chunk[#chunk + 1] = ids[i] end
  local got = redis.call('HMGET', p .. ':docs', unpack(chunk))
  for i = 1, #chunk do
    if not got[i] then
      return redis.error_reply('LOST campaign ' .. chunk[i] .. ' of ' .. p .. ' is listed but not stored')
    end
    docs[#docs + 1] = got[i]
  end
end
return {total, docs}
"""

POP_DUE = """
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. ':timers', '-inf', ARGV[2], 'LIMIT', 0, 500)
if #ids > 0 then redis.call('ZREM', p .. ':timers', unpack(ids)) end
return ids
"""

NEW_ID = """
-- KEYS[1]: the counter; ARGV[1]: the floor (after a lost namespace's reset, ids continue above it)
local n = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if n <= floor then
  n = floor + 1
  redis.call('SET', KEYS[1], n)
end
return n
"""

MARKER_OPEN = """
-- KEYS[1]: the namespace marker; ARGV: a new epoch, the contract's title ('' unknown), now.
-- Returns the epoch, the contract that wrote the namespace and the id floor. Always writes
-- (when it was opened last), so a Redis too full to write refuses the start now.
local held = redis.call('HMGET', KEYS[1], 'epoch', 'spec', 'floor')
if not held[1] then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'spec', ARGV[2], 'made', 'start', 'floor', 0, 'created', ARGV[3],
    'opened', ARGV[3])
  return {ARGV[1], ARGV[2], 0}
end
local spec = held[2] or ''
if spec == '' and ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'spec', ARGV[2])
  spec = ARGV[2]
end
redis.call('HSET', KEYS[1], 'opened', ARGV[3])
return {held[1], spec, tonumber(held[3] or '0')}
"""

OBSERVE_ID = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""

FAULTS_REPLACE = """
redis.call('HSET', KEYS[1], 'rules', ARGV[1], 'seed', ARGV[2], 'drawn', 0)
return redis.call('HINCRBY', KEYS[1], 'version', 1)
"""

FAULTS_ADVANCE = """
-- (the plan's version, the first draw of this decision or false when there are no rules)
local held = redis.call('HMGET', KEYS[1], 'rules', 'version')
if not held[2] then return {0, false} end
if held[1] == '[]' then return {tonumber(held[2]), false} end
return {tonumber(held[2]), redis.call('HINCRBY', KEYS[1], 'drawn', ARGV[1]) - tonumber(ARGV[1])}
"""

FIXED_WINDOW = """
-- KEYS: the bucket's key, the world's key ring; ARGV: now, keep seconds, then limit and seconds
-- per window. Returns 1 or 0 (allowed), then each window's opened moment and count before this
-- request. A new bucket is named in the key ring, so a drop finds it without a SCAN.
-- Moments are kept as the text they came in (Lua's tostring keeps 14 digits: a moment
-- written back rounded up would look like the future and reopen the window every time).
local at, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local held, allowed = {}, true
for i = 1, (#ARGV - 2) / 2 do
  local limit, seconds = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local stored = redis.call('HMGET', KEYS[1], 'o' .. i, 'c' .. i)
  local opened_text, count = stored[1], tonumber(stored[2])
  if i == 1 and not opened_text then redis.call('SADD', KEYS[2], KEYS[1]) end
  local opened = tonumber(opened_text)
  if (not opened) or at >= opened + seconds or at < opened then opened_text, count = ARGV[1], 0 end
  held[i] = {opened_text, count}
  if count >= limit then allowed = false end
end
local out = {allowed and 1 or 0}
for i = 1, #held do
  local used = held[i][2]
  if allowed then used = used + 1 end
  redis.call('HSET', KEYS[1], 'o' .. i, held[i][1], 'c' .. i, used)
  out[#out + 1] = held[i][1]
  out[#out + 1] = held[i][2]
end
redis.call('EXPIRE', KEYS[1], keep)
return out
"""

REFILLING_BUCKET = """
-- KEYS: the bucket's key, the world's key ring; ARGV: now, keep seconds, then limit and seconds
-- per window. Returns 1 or 0 (allowed), then each bucket's tokens and since before this request.
local at, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local held, allowed = {}, true
for i = 1, (#ARGV - 2) / 2 do
  local limit, seconds = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local stored = redis.call('HMGET', KEYS[1], 't' .. i, 's' .. i)
  local tokens_text, since_text = stored[1], stored[2]
  if not tokens_text then
    tokens_text, since_text = tostring(limit), ARGV[1]
    if i == 1 then redis.call('SADD', KEYS[2], KEYS[1]) end
  end
  local tokens, since = tonumber(tokens_text), tonumber(since_text)
  local level = math.min(limit, tokens + math.max(0, at - since) * limit / seconds)
  held[i] = {tokens_text, since_text, level}
  if level < 1 then allowed = false end
end
local out = {allowed and 1 or 0}
for i = 1, #held do
  local left = held[i][3]
  if allowed then left = left - 1 end
  redis.call('HSET', KEYS[1], 't' .. i, string.format('%.17g', left), 's' .. i, ARGV[1])
  out[#out + 1] = held[i][1]
  out[#out + 1] = held[i][2]
end
redis.call('EXPIRE', KEYS[1], keep)
return out
"""

GATE_TAKE = """
-- KEYS: the slots and the queue (sorted sets of tokens by lease end); ARGV: token, limit,
-- queue, lease seconds. Real time (Redis' own), as the wait is real: a process that dies
-- holding a slot frees it when its lease ends.
-- Returns 1 (a slot), 0 (waiting in the queue), -1 (the queue is full).
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local lease = now + tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], lease, ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]) * 2)
  return 1
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], lease, ARGV[1])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]) * 2)
  return 0
end
return -1
"""

JOURNAL_RECORD = """
-- KEYS: the list, the byte count, the id counter; ARGV: the entry (JSON), its size, the most
-- entries, the most bytes. Entries are stored as 'size|id|json'.
-- Answers the bytes the journal holds after it (the namespace's budget is kept from those).
local id = redis.call('INCR', KEYS[3])
redis.call('LPUSH', KEYS[1], ARGV[2] .. '|' .. id .. '|' .. ARGV[1])
local bytes = redis.call('INCRBY', KEYS[2], ARGV[2])
local most, most_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while redis.call('LLEN', KEYS[1]) > most or bytes > most_bytes do
  local oldest = redis.call('RPOP', KEYS[1])
  if not oldest then break end
  bytes = redis.call('DECRBY', KEYS[2], tonumber(string.match(oldest, '^(%d+)|')))
end
return bytes
"""

JOURNAL_SIZES = """
-- The namespace's journal budget. KEYS[1]: a sorted set, each journal's key prefix by the bytes
-- it holds. ARGV: the budget, then pairs (prefix, bytes) just written. Answers nothing while
-- the journals together hold at most the budget, else the largest journal, its bytes and the
-- excess: the writer trims that one (JOURNAL_TRIM) and tells again.
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
local total = 0
local sizes = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 2, #sizes, 2 do total = total + tonumber(sizes[i]) end
local budget = tonumber(ARGV[1])
if total <= budget then return {} end
local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {top[1], top[2], tostring(total - budget)}
"""

JOURNAL_TRIM = """
-- KEYS: a journal's list and byte count; ARGV: the bytes it may keep. Drops its oldest entries
-- until it keeps at most that; answers the bytes it holds after (0 when it is gone).
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0')
local keep = tonumber(ARGV[1])
while bytes > keep do
  local oldest = redis.call('RPOP', KEYS[1])
  if not oldest then break end
  bytes = redis.call('DECRBY', KEYS[2], tonumber(string.match(oldest, '^(%d+)|')))
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) return 0 end
return bytes
"""

SANDBOX_ADD = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'exists' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 'added'
"""
