-- update.lua: change a note's settings, only if the note exists.
--
-- KEYS[1]  meta  hash (see append.lua)
-- ARGV     field, value pairs to set (title, guest, series)
--
-- Returns 0 if the note does not exist (nothing is written), else 1.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if #ARGV > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return 1
