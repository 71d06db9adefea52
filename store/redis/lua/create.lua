-- create.lua: create a note's metadata and its revision-0 snapshot together.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  snap  hash: rev, text
-- KEYS[3]  optional: the global notes:byupdated sorted set (one server
--          only; see append.lua)
-- ARGV[1]  title
-- ARGV[2]  template
-- ARGV[3]  created (unix ns, decimal)
-- ARGV[4]  UTF-16 length of the text
-- ARGV[5]  text
-- ARGV[6]  the note's id (its member in notes:byupdated)
-- ARGV[7]  guest editing: "1" on, "0" off
-- ARGV[8]  series ("" for none)
--
-- Errors: EEXISTS if the id is taken (128 random bits: never in practice,
-- but the script never overwrites a note).
--
-- A second run of the same call answers 1 and writes nothing: go-redis
-- sends a script again when its answer was read late (MaxRetries), after
-- Redis ran it. The id is the caller's own, fresh, so a note at this id
-- with this creation time is this call's.

local meta, snap = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 1 then
  if redis.call('HGET', meta, 'created') == ARGV[3] then
    return 1
  end
  return redis.error_reply('EEXISTS note')
end
redis.call('HSET', meta, 'title', ARGV[1], 'template', ARGV[2],
  'created', ARGV[3], 'updated', ARGV[3], 'rev', '0', 'len', ARGV[4], 'guest', ARGV[7], 'series', ARGV[8],
  'snaprev', '0')
redis.call('HSET', snap, 'rev', '0', 'text', ARGV[5])
if KEYS[3] then
  redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[6])
end
return 1
