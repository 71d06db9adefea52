-- publish.lua: publish a message on a note's channel if the note exists.
--
-- KEYS[1]  meta  hash (see append.lua)
-- ARGV[1]  the note's sharded pub/sub channel (it carries the same hash tag)
-- ARGV[2]  the payload
--
-- Returns the number of subscribers reached on this node's shard.
-- Errors: ENOTFOUND when the note does not exist.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('ENOTFOUND note')
end
return redis.call('SPUBLISH', ARGV[1], ARGV[2])
