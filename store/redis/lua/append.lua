-- append.lua: commit a batch of changes to one note, atomically.
--
-- Every key (and the channel) carries the note's hash tag {id}, so in a
-- Redis Cluster the script runs on the one node that owns the note.
--
-- KEYS[1]  meta      hash: rev (head revision), len (UTF-16 length of the
--                    text at the head), updated (unix ns), snaprev (the
--                    snapshot's revision, kept by histsnap.lua; absent in
--                    a note last snapshotted before it was), title, ...
-- KEYS[2]  log       list: element i (0-based) is the change that produced
--                    revision logbase+1+i (meta's logbase: the revisions
--                    compaction moved to the cold list, 0 when none; see
--                    cold.lua), so RPUSH appends in O(1) and LRANGE reads
--                    any range of revisions in O(k)
-- KEYS[3]  dedup     hash: "<seq>:<session>" -> revision it produced, for
--                    the submissions the compact per-session lists below
--                    cannot hold
-- KEYS[4]  sessions  hash: session -> "<seq>:<revision>" of its highest seq:
--                    a seq above it was never committed, so it is new
--                    without a look at the list or the dedup hash
-- KEYS[5]  snap      hash: rev, text (read only, and only when meta has no
--                    snaprev: its revision is returned)
-- KEYS[6]  optional: the global notes:byupdated sorted set. Only passed when
--          Redis is one server; in a Cluster it lives in another slot and
--          the Go side updates it right after the script.
-- KEYS[...] after those: one list per session of the batch, seqrevs:<session>:
--          element 0 is the session's first committed seq f, element i the
--          revision of seq f+i-1. Sessions number their ops 1, 2, 3, ...,
--          so nearly every submission lands here at a few bytes each; one
--          that does not continue the list (a gap, a seq beyond 2^53) goes
--          to the dedup hash instead. Once compaction (fold.lua) has
--          trimmed the list's oldest revisions, element 0 is "f:R": the
--          seqs below f were committed at or before revision R (the
--          compacted entry that holds the last of them), so a resend of
--          one is a duplicate answered with R; the list may then hold
--          element 0 alone.
--
-- ARGV[1]  the expected head revision
-- ARGV[2]  the commit time, unix nanoseconds in decimal (kept as a string:
--          Lua numbers are doubles and would lose the low digits)
-- ARGV[3]  the note's sharded pub/sub channel
-- ARGV[4]  the note's id (its member in notes:byupdated)
-- ARGV[5]  the length of Go's copy of the text at the expected revision
-- ARGV[6]  "1" when KEYS[6] is the global index, "0" when it is not passed
-- ARGV[7]  the note's history budget in bytes ("0": none); the meta hash's
--          "history" field counts the bytes of every entry in the log and
--          in the cold list (compaction takes off what it frees)
-- ARGV[8..] six arguments per change: session, seq (decimal uint64, kept
--          as a string), base length, target length, body, and the index in
--          KEYS of the session's seqrevs list. The body is the
--          change as a JSON object {"o":op,"s":session,"q":seq,"a":author}
--          encoded by Go; the script prepends the revision and the time.
--          The base length also carries what Go found when it applied
--          the op to its copy of the text:
--            -1  the op is invalid (the body says why): refused unless the
--                change is a duplicate, so a resend is recognised before its
--                op is looked at
--            -2  Go treats the change as a duplicate and did not apply it
--                (a repeat within the batch, or one this script reported)
-- ARGV[#ARGV]  the batch's attendees: one line per author of a change Go
--          applied, "<needle>\t<record>", where record is the JSON object
--          {"k":key,"n":name,"e":email} and needle its '"k":<key>' part.
--          The meta hash's "people" field is a JSON array of records; a
--          record whose needle it lacks is added, up to 100 people
--          (scribe.MaxAttendees). JSON escapes tabs, newlines and quotes
--          inside strings, so a needle matches only a record's key.
--          Go leaves out the authors it has seen recorded lately (the
--          field only grows), so this is usually empty.
--
-- Returns {head, snapshot revision, rev1, rev2, ...}: the new head, the
-- revision of the stored snapshot (so the caller sees how far snapshots
-- lag), and the revision of each change (a duplicate's is the revision it
-- already has).
--
-- Errors (the first word is the code the Go side maps to a scribe code):
--   ENOTFOUND         the note does not exist
--   ECONFLICT <head>  the head is not the expected revision; nothing written
--   EHISTORY <stored> <adding>  the new entries would take the note's
--                     history past the budget; nothing written
--   EINVALID <why>    a change does not fit the text; nothing written
--   ELENGTH <why>     Go's copy of the text does not have the stored length
--                     (or a change Go found to fit it does not fit the
--                     stored length): the copy is stale, or the metadata
--                     corrupt; nothing written
--   ECORRUPT <what>   stored data cannot be read; nothing written
--   EREDO <i> <j> ... changes i, j, ... are duplicates Go did not know of
--                     (they are already in the log); Go applied some of them
--                     to its copy of the text, so its checks of the later
--                     changes are void. Go retries with them marked -2.
--                     Nothing written.
--
-- Order of checks: the head first, then each change in order (duplicate?
-- else: valid op? fits the text?). The script checks everything before it
-- writes anything, so a failed call leaves the note untouched.

local meta, log, dedup, sessions = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local expected, now, channel, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local HEAD = 7 -- arguments before the changes
local PER = 6  -- arguments per change

local function itoa(n) return string.format('%d', n) end

-- seqGreater compares two canonical decimal uint64 strings without turning
-- them into doubles.
local function seqGreater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end

-- The history field (for the budget) and the snapshot's revision are
-- read here too: one call. (The attendees only when the batch has some:
-- the field is a few KB in a note of many people, Go passes only the
-- authors it has not yet seen recorded, and most batches have none.)
local state = redis.call('HMGET', meta, 'rev', 'len', 'history', 'snaprev')
if not state[1] then
  return redis.error_reply('ENOTFOUND note')
end
local head, len = tonumber(state[1]), tonumber(state[2])
if head == nil or len == nil or head < 0 or len < 0 or
    head ~= math.floor(head) or len ~= math.floor(len) then
  return redis.error_reply('ECORRUPT note metadata')
end
-- (The stored rev is written canonical, so equal strings are the common
-- case, without formatting head.)
if state[1] ~= expected and itoa(head) ~= expected then
  return redis.error_reply('ECONFLICT ' .. itoa(head))
end
if tonumber(ARGV[5]) ~= len then
  -- Go's copy of the text is not the stored text at this revision (a
  -- failover lost changes it has, or the metadata is corrupt): Go's checks
  -- of the ops are void. Go reloads the text and retries.
  return redis.error_reply('ELENGTH the text at revision ' .. expected ..
    ' has length ' .. itoa(len) .. ', not ' .. ARGV[5])
end

-- seqList returns the length of a session's seqrevs list, its first seq
-- and, once compaction trimmed it, the revision R of the seqs below the
-- first; or nil and a complaint when the list is not one record() and
-- fold.lua build (absent; or a first seq >= 1, untrimmed followed by at
-- least one revision). What it read is kept for the rest of the script
-- (lists[rk]), and record() keeps it current, so each list is read once
-- per call.
local lists = {}
local function seqList(rk)
  local l = lists[rk]
  if l then return l[1], l[2], l[3] end
  local n = redis.call('LLEN', rk)
  if n == 0 then
    lists[rk] = {0, nil, nil}
    return 0, nil, nil
  end
  local head = redis.call('LINDEX', rk, 0)
  local f, r = string.match(head, '^(%d+):(%d+)$')
  local first, floor
  if f then
    first, floor = tonumber(f), tonumber(r)
  else
    first = tonumber(head)
  end
  if first == nil or first < 1 or first >= 1e15 or first ~= math.floor(first) or
      (floor == nil and n < 2) or (floor ~= nil and (floor < 1 or floor >= 1e15)) then
    return nil, 'ECORRUPT submission list of a session'
  end
  lists[rk] = {n, first, floor}
  return n, first, floor
end

-- lookup returns the revision a committed submission produced (false or
-- nil if it is new), or false and a complaint when the stored data is
-- corrupt. A seq below a trimmed list's first was compacted: its
-- revision is the list's R, unless the dedup hash knows better.
local function lookup(rk, seq, dk)
  if #seq <= 15 then -- exact as a Lua number
    local n, first, floor = seqList(rk)
    if n == nil then return false, first end
    local s = tonumber(seq)
    if n > 0 and s >= first and s <= first + n - 2 then
      return redis.call('LINDEX', rk, s - first + 1)
    end
    if floor and s < first then
      return redis.call('HGET', dedup, dk) or tostring(floor)
    end
  end
  return redis.call('HGET', dedup, dk)
end

-- record remembers the revision a submission produced: in the session's
-- list when it continues it (or starts it), else in the dedup hash. Pass 1
-- has checked the list, or found seq above the session's highest, last
-- (its "<seq>:<revision>" in sessions, or nil). When seq follows last and
-- the list's last element is last's revision, the list ends with last's
-- record (a revision is produced by one submission), so seq continues it:
-- one call instead of reading the list's length and first seq.
local function record(rk, seq, dk, r, last)
  if #seq <= 15 and last and not lists[rk] then
    local ls, lr = string.match(last, '^(%d+):(%d+)$')
    if ls and #ls <= 15 and tonumber(seq) == tonumber(ls) + 1 and
        redis.call('LINDEX', rk, -1) == lr then
      redis.call('RPUSH', rk, r)
      return
    end
  end
  if #seq <= 15 then
    local n, first, floor = seqList(rk)
    if n == 0 then
      redis.call('RPUSH', rk, seq, r)
      lists[rk] = {2, tonumber(seq), nil}
      return
    end
    if n and tonumber(seq) == first + n - 1 then
      redis.call('RPUSH', rk, r)
      lists[rk] = {n + 1, first, floor}
      return
    end
  end
  redis.call('HSET', dedup, dk, r)
end

-- Pass 1: decide each change's revision and check the chain of lengths.
local n = (#ARGV - HEAD - 1) / PER -- the last argument is the attendees
local revs = {}
local rks = {}    -- each change's seqrevs key, converted once
local fresh = {}  -- indexes of the changes to write
local seen = {}   -- dedup keys of this batch -> revision
local unknownDups = {} -- duplicates Go did not mark -2
local redo = false     -- Go applied one of them
local lasts = {}       -- session -> its sessions field as stored (false: none)
local rev = head
local lenStr -- len as Go formatted it, once a change moved it
for i = 1, n do
  local b = HEAD + 1 + (i - 1) * PER
  local session, seq = ARGV[b], ARGV[b + 1]
  local base, target = tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local dk = seq .. ':' .. session
  local rk = KEYS[tonumber(ARGV[b + 5])]
  rks[i] = rk
  local last = lasts[session]
  if last == nil then
    last = redis.call('HGET', sessions, session)
    lasts[session] = last
  end
  local lastSeq = last and string.match(last, '^(%d+):') or nil
  local dup, complaint = seen[dk], nil
  if not dup and not (lastSeq and seqGreater(seq, lastSeq)) then
    dup, complaint = lookup(rk, seq, dk)
  end
  if complaint then return redis.error_reply(complaint) end
  if dup then
    local r = tonumber(dup)
    if r == nil or r < 1 or r > head + n or r ~= math.floor(r) then
      -- (No key, session or value in the message: clients may see it.)
      return redis.error_reply('ECORRUPT dedup index: change ' .. i .. ' maps to no committed revision')
    end
    revs[i] = r
    if base ~= -2 then
      unknownDups[#unknownDups + 1] = i
      if base >= 0 then redo = true end
    end
  elseif base == -2 then
    return redis.error_reply('ECORRUPT dedup index: change ' .. i .. ' is no longer a duplicate')
  elseif not redo then
    -- (Once a redo is due, Go's checks of later changes are void: only
    -- duplicates are still collected.)
    if base == -1 then
      return redis.error_reply('EINVALID change ' .. i .. ': ' .. ARGV[b + 4])
    end
    if base ~= len then
      -- Go applied the op to its copy of the text, so the copy and the
      -- stored length disagree: Go reloads the text and retries.
      return redis.error_reply('ELENGTH change ' .. i .. ' has base length ' ..
        ARGV[b + 2] .. ' but the stored text has length ' .. itoa(len))
    end
    len, lenStr = target, ARGV[b + 3]
    rev = rev + 1
    revs[i] = rev
    fresh[#fresh + 1] = i
    seen[dk] = rev
  end
end
if redo then
  return redis.error_reply('EREDO ' .. table.concat(unknownDups, ' '))
end

-- The history budget: checked before anything is written.
local entries = {}
local rstr = {}   -- each new change's revision in decimal, formatted once
local adding = 0
for _, i in ipairs(fresh) do
  local b = HEAD + 1 + (i - 1) * PER
  rstr[i] = itoa(revs[i])
  local entry = '{"r":' .. rstr[i] .. ',"t":' .. now .. ',' .. string.sub(ARGV[b + 4], 2)
  entries[#entries + 1] = entry
  adding = adding + #entry
end
local budget = tonumber(ARGV[7]) or 0
local history = tonumber(state[3]) or 0
if #entries > 0 and budget > 0 and history + adding > budget then
  return redis.error_reply('EHISTORY ' .. itoa(history) .. ' ' .. itoa(adding))
end

-- Pass 2: write. (lasts holds each session's field as pass 1 read it,
-- kept current here.)
for _, i in ipairs(fresh) do
  local b = HEAD + 1 + (i - 1) * PER
  local session, seq = ARGV[b], ARGV[b + 1]
  local last = lasts[session]
  record(rks[i], seq, seq .. ':' .. session, rstr[i], last)
  local lastSeq = last and string.match(last, '^(%d+):') or nil
  if not lastSeq or seqGreater(seq, lastSeq) then
    last = seq .. ':' .. rstr[i]
    redis.call('HSET', sessions, session, last)
    lasts[session] = last
  end
end

if #entries > 0 then
  -- One RPUSH per thousand entries (unpack is bounded by Lua's stack).
  for i = 1, #entries, 1000 do
    redis.call('RPUSH', log, unpack(entries, i, math.min(i + 999, #entries)))
  end
  -- rev and len as already formatted: each string.format costs as much
  -- as a redis.call.
  redis.call('HSET', meta, 'rev', rstr[fresh[#fresh]], 'len', lenStr, 'updated', now, 'history', itoa(history + adding))
  -- Attendees: written only when someone new appears.
  local people = '[]'
  if ARGV[#ARGV] ~= '' then people = redis.call('HGET', meta, 'people') or '[]' end
  local before = people
  for needle, record in string.gmatch(ARGV[#ARGV], '([^\t\n]+)\t([^\n]+)') do
    if not string.find(people, needle, 1, true) then
      local _, count = string.gsub(people, '{"k":', '')
      if count < 100 then
        people = string.sub(people, 1, -2) .. (count > 0 and ',' or '') .. record .. ']'
      end
    end
  end
  if people ~= before then redis.call('HSET', meta, 'people', people) end
  if ARGV[6] == '1' then
    -- GT: the index never moves a note back (a node with a slow clock).
    redis.call('ZADD', KEYS[6], 'GT', now, id)
  end
  -- Subscribers on every node hear the commit; one message per batch.
  redis.call('SPUBLISH', channel, 'c' .. table.concat(entries, '\n'))
end

local snapRev = tonumber(state[4] or redis.call('HGET', KEYS[5], 'rev')) or 0
local out = {rev, snapRev}
for i = 1, n do out[i + 2] = revs[i] end
return out
