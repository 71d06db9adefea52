-- checkpoint.lua: add a named checkpoint at a revision no later than the
-- head.
--
-- KEYS[1]  meta   hash (see append.lua)
-- KEYS[2]  marks  sorted set: checkpoint JSON scored by revision
-- ARGV[1]  the revision
-- ARGV[2]  the checkpoint's JSON
--
-- Errors: ENOTFOUND when the note does not exist; EINVALID for a revision
-- beyond the head.

local meta, marks = KEYS[1], KEYS[2]
local head = tonumber(redis.call('HGET', meta, 'rev'))
if head == nil then
  return redis.error_reply('ENOTFOUND note')
end
local rev = tonumber(ARGV[1])
if rev == nil or rev > head then
  return redis.error_reply('EINVALID the note is at revision ' .. head .. '; a checkpoint cannot be later')
end
redis.call('ZADD', marks, rev, ARGV[2])
return 1
