-- snapshot.lua: store the note's text at a revision, only if it is newer
-- than the snapshot already stored. Any node may compute a snapshot (the
-- text at a revision is fully determined by the log), so two nodes racing
-- both write correct text; the compare keeps the newest.
--
-- KEYS[1]  meta  hash (see append.lua); a snapshot beyond the head is refused
-- KEYS[2]  snap  hash: rev, text
-- ARGV[1]  the revision
-- ARGV[2]  the text at that revision
--
-- Returns 1 if written, 0 if an equal or newer snapshot was already there.

local meta, snap = KEYS[1], KEYS[2]
local rev = tonumber(ARGV[1])
local head = tonumber(redis.call('HGET', meta, 'rev'))
if head == nil or rev == nil or rev > head then
  return redis.error_reply('EINVALID snapshot beyond the head')
end
local cur = tonumber(redis.call('HGET', snap, 'rev'))
if cur ~= nil and cur >= rev then
  return 0
end
redis.call('HSET', snap, 'rev', ARGV[1], 'text', ARGV[2])
return 1
