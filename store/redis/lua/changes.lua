-- changes.lua: read the changes with from < revision <= to, with the head,
-- in one consistent view.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  log   list (see append.lua)
-- ARGV[1]  from (>= 0)
-- ARGV[2]  to   (>= from; clamped to the head)
--
-- Returns {head, {entries}}. Errors: ENOTFOUND when the note does not exist.

local meta, log = KEYS[1], KEYS[2]
local head = redis.call('HGET', meta, 'rev')
if not head then
  return redis.error_reply('ENOTFOUND note')
end
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local h = tonumber(head)
if h == nil then
  return redis.error_reply('ECORRUPT note metadata')
end
if to > h then to = h end
if to <= from then
  return {head, {}}
end
-- Revision r is at index r-1: revisions from+1 .. to are indexes from .. to-1.
return {head, redis.call('LRANGE', log, from, to - 1)}
