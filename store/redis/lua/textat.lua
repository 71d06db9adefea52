-- textat.lua: read what TextAt needs in one round trip and one consistent
-- view: the nearest snapshot at or below a revision (the latest snapshot,
-- or else the newest history snapshot at or below it) and the changes
-- after it up to the revision.
--
-- KEYS[1]  meta      hash (see append.lua)
-- KEYS[2]  snap      hash: rev, text
-- KEYS[3]  hist      hash: rev -> text (see histsnap.lua)
-- KEYS[4]  histrevs  sorted set: the revisions in hist
-- KEYS[5]  log       list (see append.lua and cold.lua)
-- KEYS[6]  cold      list (see cold.lua)
-- ARGV[1]  the revision
--
-- Returns {base revision, text, {entries}}, entries taking the text from
-- base to ARGV[1] (cold entries, then log elements); {false, false, {}}
-- when no snapshot at or below the revision is kept.
--
-- Errors: ENOTFOUND when the note does not exist; EINVALID for a revision
-- beyond the head; EGONE for one inside a fold (cold.lua).

local meta, snap, hist, histrevs, log, cold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local head, complaint = coldHead(meta)
if not head then return redis.error_reply(complaint) end
local rev = tonumber(ARGV[1])
if rev == nil or rev < 0 or rev > head then
  return redis.error_reply('EINVALID the note has revisions 0 to ' .. head)
end
local logbase = coldLogbase(meta)
if logbase == nil or logbase > head then
  return redis.error_reply('ECORRUPT note metadata')
end
local ok, why = coldAddressable(cold, logbase, rev)
if not ok then return redis.error_reply(why) end
local s = redis.call('HMGET', snap, 'rev', 'text')
local base, text = tonumber(s[1]), s[2]
if s[1] and base == nil then
  return redis.error_reply('ECORRUPT snapshot revision')
end
if base == nil or base > rev or not text then
  base, text = nil, false
  local h = redis.call('ZREVRANGEBYSCORE', histrevs, rev, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #h > 0 then
    base = tonumber(h[2])
    text = redis.call('HGET', hist, h[1])
  end
end
if base == nil or not text or base < 0 then
  return {false, false, {}}
end
local entries = {}
if rev > base then
  entries, why = coldRange(cold, log, logbase, base, rev)
  if entries == nil then return redis.error_reply(why) end
end
return {tostring(base), text, entries}
