-- load.lua: read what LoadNote needs in one round trip and one consistent
-- view: the note's metadata, its latest snapshot, and the changes after it.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  snap  hash: rev (the revision of the snapshot), text
-- KEYS[3]  log   list (see append.lua and cold.lua)
-- KEYS[4]  cold  list (see cold.lua)
--
-- Returns {meta as HGETALL pairs, snapshot rev, snapshot text, {entries}}
-- where entries take the text from the snapshot to the head: log elements
-- (compaction folds only revisions at or below the latest snapshot, so
-- they are hot; cold entries only if a corrupt snapshot says otherwise).
-- A missing snapshot is returned as false (nil in Go): the Go side reports
-- corrupt data rather than guessing.
--
-- Errors: ENOTFOUND when the note does not exist; ECORRUPT or EGONE when
-- the snapshot and the history disagree.

local meta, snap, log, cold = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local m = redis.call('HGETALL', meta)
if #m == 0 then
  return redis.error_reply('ENOTFOUND note')
end
local s = redis.call('HMGET', snap, 'rev', 'text')
local snapRev = tonumber(s[1])
local entries = {}
if snapRev then
  local head = tonumber(redis.call('HGET', meta, 'rev'))
  local logbase = coldLogbase(meta)
  if head == nil or logbase == nil then
    return redis.error_reply('ECORRUPT note metadata')
  end
  if snapRev >= 0 and snapRev <= head then
    local why
    entries, why = coldRange(cold, log, logbase, snapRev, head)
    if entries == nil then return redis.error_reply(why) end
  end
end
return {m, s[1], s[2], entries}
