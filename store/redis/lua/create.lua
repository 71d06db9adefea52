-- create.lua: create a note's metadata and its revision-0 snapshot together.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  snap  hash: rev, text
-- ARGV[1]  title
-- ARGV[2]  template
-- ARGV[3]  created (unix ns, decimal)
-- ARGV[4]  UTF-16 length of the text
-- ARGV[5]  text
--
-- Errors: EEXISTS if the id is taken (128 random bits: never in practice,
-- but the script never overwrites a note).

local meta, snap = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 1 then
  return redis.error_reply('EEXISTS note')
end
redis.call('HSET', meta, 'title', ARGV[1], 'template', ARGV[2],
  'created', ARGV[3], 'updated', ARGV[3], 'rev', '0', 'len', ARGV[4])
redis.call('HSET', snap, 'rev', '0', 'text', ARGV[5])
return 1
