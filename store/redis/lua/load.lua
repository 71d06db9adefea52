-- load.lua: read what LoadNote needs in one round trip and one consistent
-- view: the note's metadata, its latest snapshot, and the changes after it.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  snap  hash: rev (the revision of the snapshot), text
-- KEYS[3]  log   list (see append.lua)
--
-- Returns {meta as HGETALL pairs, snapshot rev, snapshot text, {entries}}
-- where entries are the log elements for revisions snapshot rev+1 .. head.
-- A missing snapshot is returned as false (nil in Go): the Go side reports
-- corrupt data rather than guessing.
--
-- Errors: ENOTFOUND when the note does not exist.

local meta, snap, log = KEYS[1], KEYS[2], KEYS[3]

local m = redis.call('HGETALL', meta)
if #m == 0 then
  return redis.error_reply('ENOTFOUND note')
end
local s = redis.call('HMGET', snap, 'rev', 'text')
local snapRev = tonumber(s[1])
local entries = {}
if snapRev then
  -- The log index of revision r is r-1: the first change after the
  -- snapshot (revision snapRev+1) is at index snapRev. -1 reads to the end;
  -- the head in meta is written in the same script as the log, so the two
  -- always agree.
  entries = redis.call('LRANGE', log, snapRev, -1)
end
return {m, s[1], s[2], entries}
