-- foldread.lua: read, in one consistent view, what the compaction step
-- needs to plan folds of a note's oldest hot changes (compact.go).
--
-- KEYS[1]  meta      hash (see append.lua)
-- KEYS[2]  log       list (see append.lua and cold.lua)
-- KEYS[3]  snap      hash: rev, text
-- KEYS[4]  marks     sorted set: named checkpoints scored by revision
-- KEYS[5]  histrevs  sorted set: history snapshot revisions
-- ARGV[1]  how many log elements to read, from the oldest
--
-- Returns {head, logbase, snapshot revision or false, {log elements},
-- {revisions of the marks and history snapshots among them}}.
-- Errors: ENOTFOUND when the note does not exist.

local meta, log, snap, marks, histrevs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local head = tonumber(redis.call('HGET', meta, 'rev'))
if head == nil then
  return redis.error_reply('ENOTFOUND note')
end
local logbase = coldLogbase(meta)
if logbase == nil or logbase > head then
  return redis.error_reply('ECORRUPT note metadata')
end
local n = tonumber(ARGV[1])
local entries = redis.call('LRANGE', log, 0, n - 1)
local lo, hi = '(' .. string.format('%d', logbase), string.format('%d', logbase + #entries)
local stops = {}
for _, key in ipairs({marks, histrevs}) do
  local m = redis.call('ZRANGEBYSCORE', key, lo, hi, 'WITHSCORES')
  for i = 2, #m, 2 do stops[#stops + 1] = m[i] end
end
local snapRev = redis.call('HGET', snap, 'rev')
return {string.format('%d', head), string.format('%d', logbase), snapRev or false, entries, stops}
