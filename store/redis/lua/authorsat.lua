-- authorsat.lua: read what AuthorsAt needs in one round trip and one
-- consistent view: the newest authorship kept at or below a revision (one
-- is kept beside each snapshot, see histsnap.lua), or else the text at
-- revision 0 (nobody's), and the changes after it up to the revision.
--
-- KEYS[1]  meta      hash (see append.lua)
-- KEYS[2]  snap      hash: rev, text
-- KEYS[3]  hist      hash: rev -> text (see histsnap.lua)
-- KEYS[4]  authors   hash: rev -> authorship (authorship.Encode)
-- KEYS[5]  log       list (see append.lua and cold.lua)
-- KEYS[6]  cold      list (see cold.lua)
-- ARGV[1]  the revision
--
-- Returns {base revision, authorship or false, text at 0 or false,
-- {entries}}, entries taking the text from base to ARGV[1] (cold
-- entries, then log elements); {false, false, false, {}} when neither is
-- kept.
--
-- Errors: ENOTFOUND when the note does not exist; EINVALID for a revision
-- beyond the head; EGONE for one inside a fold (cold.lua).

local meta, snap, hist, authors, log, cold = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
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
-- One authorship per snapshot: a few hundred at most for a long history.
local base, a, text = nil, false, false
for _, k in ipairs(redis.call('HKEYS', authors)) do
  local r = tonumber(k)
  if r ~= nil and r <= rev and (base == nil or r > base) then
    base = r
  end
end
if base ~= nil then
  a = redis.call('HGET', authors, tostring(base))
else
  text = redis.call('HGET', hist, '0')
  if not text then
    local s = redis.call('HMGET', snap, 'rev', 'text')
    if s[1] and tonumber(s[1]) == nil then
      return redis.error_reply('ECORRUPT snapshot revision')
    end
    if tonumber(s[1]) == 0 then
      text = s[2]
    end
  end
  if not text then
    return {false, false, false, {}}
  end
  base = 0
end
local entries = {}
if rev > base then
  entries, why = coldRange(cold, log, logbase, base, rev)
  if entries == nil then return redis.error_reply(why) end
end
return {tostring(base), a, text, entries}
