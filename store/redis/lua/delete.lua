-- delete.lua: delete a note's keys, all in its slot, at once.
--
-- KEYS[1]  meta  hash (see append.lua)
-- KEYS[2]  sessions hash (see append.lua): its fields name the seqrevs lists
-- KEYS[3..] the note's other keys: snap, log, cold, dedup, hist, histrevs, marks, authors,
--          shares, and one seqrevs:<session> list per field of sessions
-- ARGV[1]  how many fields sessions had when Go listed them
--
-- Errors: ENOTFOUND if the note does not exist; ERETRY if a session was
-- added since Go listed them (its seqrevs list would be left behind), and
-- nothing is deleted.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('ENOTFOUND note')
end
if redis.call('HLEN', KEYS[2]) ~= tonumber(ARGV[1]) then
  return redis.error_reply('ERETRY sessions changed')
end
return redis.call('DEL', unpack(KEYS))
