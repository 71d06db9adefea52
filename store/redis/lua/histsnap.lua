-- histsnap.lua: store the note's text at
-- a revision, only if it is newer than the snapshot already stored; the
-- snapshot it replaces moves to the history snapshots when it is the
-- note's first kept one or at least ARGV[3] revisions after the newest
-- kept one (see history.go). Any node may compute a snapshot (the text at
-- a revision is fully determined by the log), so two nodes racing both
-- write correct text; the compare keeps the newest.
--
-- KEYS[1]  meta      hash (see append.lua); a snapshot beyond the head is
--                    refused; its snaprev field is set to the revision stored
-- KEYS[2]  snap      hash: rev, text
-- KEYS[3]  hist      hash: rev -> text at rev (history snapshots)
-- KEYS[4]  histrevs  sorted set: the revisions in hist, scored by revision
-- ARGV[1]  the revision
-- ARGV[2]  the text at that revision
-- ARGV[3]  the history interval (revisions)
-- KEYS[5]  authors   hash: rev -> who wrote the text at rev (authorsat.lua)
-- ARGV[4]  who wrote the text at ARGV[1] (authorship.Encode), or "" if unknown
--
-- The authorship of a snapshot lives and dies with it: written with it,
-- kept when it moves to hist, deleted when it is replaced.
--
-- Returns 1 if written, 0 if an equal or newer snapshot was already there.

local meta, snap, hist, histrevs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local rev = tonumber(ARGV[1])
local every = tonumber(ARGV[3])
local head = tonumber(redis.call('HGET', meta, 'rev'))
if head == nil or rev == nil or rev > head then
  return redis.error_reply('EINVALID snapshot beyond the head')
end
local old = redis.call('HMGET', snap, 'rev', 'text')
local cur = tonumber(old[1])
if cur ~= nil and cur >= rev then
  return 0
end
local authors = KEYS[5]
if cur ~= nil and old[2] then
  local last = redis.call('ZREVRANGE', histrevs, 0, 0, 'WITHSCORES')
  if #last == 0 or cur >= tonumber(last[2]) + every then
    redis.call('HSET', hist, old[1], old[2])
    redis.call('ZADD', histrevs, cur, old[1])
  else
    redis.call('HDEL', authors, old[1])
  end
end
redis.call('HSET', snap, 'rev', ARGV[1], 'text', ARGV[2])
-- append.lua returns the snapshot's revision from meta: one read fewer.
redis.call('HSET', meta, 'snaprev', ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HSET', authors, ARGV[1], ARGV[4])
end
return 1
