-- checkpoint.lua: add a named checkpoint at a revision no later than the
-- head.
--
-- KEYS[1]  meta   hash (see append.lua)
-- KEYS[2]  marks  sorted set: checkpoint JSON scored by revision
-- KEYS[3]  cold   list (see cold.lua)
-- ARGV[1]  the revision
-- ARGV[2]  the checkpoint's JSON
--
-- Errors: ENOTFOUND when the note does not exist; EINVALID for a revision
-- beyond the head; EGONE for one inside a fold (cold.lua): a checkpoint
-- names a text that can be read.

local meta, marks, cold = KEYS[1], KEYS[2], KEYS[3]
local head, complaint = coldHead(meta)
if not head then return redis.error_reply(complaint) end
local rev = tonumber(ARGV[1])
if rev == nil or rev > head then
  return redis.error_reply('EINVALID the note is at revision ' .. head .. '; a checkpoint cannot be later')
end
local logbase = coldLogbase(meta)
if logbase == nil then
  return redis.error_reply('ECORRUPT note metadata')
end
local ok, why = coldAddressable(cold, logbase, rev)
if not ok then return redis.error_reply(why) end
redis.call('ZADD', marks, rev, ARGV[2])
return 1
