-- changes.lua: read the changes with from < revision <= to, with the head,
-- in one consistent view.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  log   list (see append.lua and cold.lua)
-- KEYS[3]  cold  list (see cold.lua)
-- ARGV[1]  from (>= 0)
-- ARGV[2]  to   (>= from; clamped to the head)
--
-- Returns {head, {entries}}: cold entries (one per fold) then log elements.
-- Errors: ENOTFOUND when the note does not exist; EGONE when from or the
-- clamped to is inside a fold.

local meta, log, cold = KEYS[1], KEYS[2], KEYS[3]
local head = redis.call('HGET', meta, 'rev')
if not head then
  return redis.error_reply('ENOTFOUND note')
end
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local h = tonumber(head)
local logbase = coldLogbase(meta)
if h == nil or logbase == nil or logbase > h then
  return redis.error_reply('ECORRUPT note metadata')
end
if to > h then to = h end
if to <= from then
  return {head, {}}
end
local entries, why = coldRange(cold, log, logbase, from, to)
if entries == nil then return redis.error_reply(why) end
return {head, entries}
