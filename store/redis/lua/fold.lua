-- fold.lua: replace a note's oldest hot changes by their compacted
-- entries, atomically (compact.go plans them; cold.lua has the layout).
-- Either everything below is written or nothing is: a crash at any point
-- leaves the old layout or the new one.
--
-- KEYS[1]  meta      hash (see append.lua): logbase, history
-- KEYS[2]  log       list: the hot changes
-- KEYS[3]  cold      list: the compacted entries
-- KEYS[4]  snap      hash: rev (the latest snapshot)
-- KEYS[5]  histrevs  sorted set: history snapshot revisions
-- KEYS[6]  marks     sorted set: named checkpoints scored by revision
-- KEYS[7]  dedup     hash: "<seq>:<session>" -> revision (see append.lua)
-- KEYS[8]  sessions  hash: session -> "<seq>:<revision>" of its highest seq
-- KEYS[9..] the seqrevs list of each session with a change moved
--
-- ARGV[1]  the logbase Go planned from (the step re-plans if it moved)
-- ARGV[2]  m: the log elements to move, revisions logbase+1 .. logbase+m
-- ARGV[3]  E: how many entries replace them
-- ARGV[4]  D: how many dedup fields to repoint
-- ARGV[5]  S: how many sessions have changes that move (KEYS[9..])
-- then E triples: first revision, last revision, the entry's JSON ("" for
--          a single change, moved as it is)
-- then S pairs, one per KEYS[9..] list: the session, and how many of its
--          changes move (a bound on the list elements to trim)
-- then D triples: dedup field, the revision it holds, the fold's last
--          revision that holds it from now on
--
-- Checks, before anything is written (ERETRY: the note moved on; re-plan):
-- logbase is still ARGV[1]; the first m log elements are revisions
-- logbase+1 .. logbase+m; the entries cover exactly those revisions, in
-- order; no fold has strictly inside it a named checkpoint, a history
-- snapshot or the latest snapshot, and the latest snapshot is at or above
-- the new logbase (so LoadNote reads only the log).
--
-- Writes: the entries pushed on cold, the m elements trimmed from the log,
-- logbase moved on, history (if kept) down by the bytes freed, each
-- session list's compacted revisions trimmed (its first element becoming
-- "<first kept seq>:<revision of the entry holding the seq before>", see
-- append.lua), the dedup fields of folded changes and a session's
-- highest seq, when folded, pointed at their fold (so LastSeq names a
-- revision that can be read). Returns {bytes removed, bytes added}.

local meta, log, cold, snap, histrevs, marks, dedup, sessions = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local NKEYS = 8
local NARGS = 5
local function itoa(n) return string.format('%d', n) end

local head = tonumber(redis.call('HGET', meta, 'rev'))
if head == nil then
  return redis.error_reply('ENOTFOUND note')
end
local base = coldLogbase(meta)
if base == nil then
  return redis.error_reply('ECORRUPT note metadata')
end
if itoa(base) ~= ARGV[1] then
  return redis.error_reply('ERETRY logbase moved')
end
local m, E, D, S = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local top = base + m
if m < 1 or E < 1 or top > head or S ~= #KEYS - NKEYS then
  return redis.error_reply('ERETRY nothing to fold')
end

-- The log elements, checked by revision.
local old = redis.call('LRANGE', log, 0, m - 1)
if #old ~= m then
  return redis.error_reply('ECORRUPT the log is shorter than the head says')
end
local removed = 0
for i, e in ipairs(old) do
  if tonumber(string.match(e, '^{"r":(%d+),')) ~= base + i then
    return redis.error_reply('ECORRUPT log element ' .. i .. ' is not revision ' .. itoa(base + i))
  end
  removed = removed + #e
end

-- The entries, checked to cover base+1 .. top in order.
local firsts, lasts, texts = {}, {}, {}
local isLast = {}
local added = 0
local want = base + 1
for k = 1, E do
  local a = NARGS + (k - 1) * 3
  local first, last, text = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  if first ~= want or last == nil or last < first or last > top then
    return redis.error_reply('EINVALID entries do not cover the revisions in order')
  end
  if text == '' then
    if first ~= last then
      return redis.error_reply('EINVALID a fold without its text')
    end
    text = old[first - base]
  else
    local r, f = coldRevs(text)
    if r ~= last or f ~= first or first == last then
      return redis.error_reply('EINVALID a fold whose text does not say its revisions')
    end
  end
  firsts[k], lasts[k], texts[k] = first, last, text
  isLast[last] = true
  added = added + #text
  want = last + 1
end
if want ~= top + 1 then
  return redis.error_reply('EINVALID entries do not cover the revisions in order')
end

-- Boundaries that must stay addressable.
local snapRev = tonumber(redis.call('HGET', snap, 'rev'))
if snapRev == nil or snapRev < top then
  return redis.error_reply('ERETRY the latest snapshot is below the fold')
end
for _, key in ipairs({histrevs, marks}) do
  local z = redis.call('ZRANGEBYSCORE', key, '(' .. itoa(base), itoa(top), 'WITHSCORES')
  for i = 2, #z, 2 do
    if not isLast[tonumber(z[i])] then
      return redis.error_reply('ERETRY a checkpoint or snapshot inside a fold')
    end
  end
end

-- entryOf returns the last revision of the entry holding revision r.
local function entryOf(r)
  local lo, hi = 1, E
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    if r < firsts[mid] then hi = mid - 1
    elseif r > lasts[mid] then lo = mid + 1
    else return lasts[mid] end
  end
  return top
end

-- Read what the writes below need first, so that nothing can fail once
-- the first write is done (a script that fails half-way keeps its writes).
if redis.call('TYPE', cold).ok ~= 'list' and redis.call('TYPE', cold).ok ~= 'none' then
  return redis.error_reply('ECORRUPT compacted history')
end
local history = redis.call('HGET', meta, 'history')
if history ~= false then
  history = tonumber(history)
  if history == nil then
    return redis.error_reply('ECORRUPT note metadata')
  end
end
-- Session lists: how many of their revisions are now at or below top;
-- and each session's highest seq, if it is folded.
local at = NARGS + E * 3
local trims, highest = {}, {}
for k = 1, S do
  local session, cnt = ARGV[at + 2 * k - 1], tonumber(ARGV[at + 2 * k])
  local rk = KEYS[NKEYS + k]
  local hs = redis.call('HGET', sessions, session)
  if hs then
    local seq, r = string.match(hs, '^(%d+):(%d+)$')
    r = tonumber(r)
    if r and r > base and r <= top and entryOf(r) ~= r then
      highest[#highest + 1] = session
      highest[#highest + 1] = seq .. ':' .. itoa(entryOf(r))
    end
  end
  local l = redis.call('LRANGE', rk, 0, cnt)
  if #l >= 1 then
    local f = tonumber(string.match(l[1], '^(%d+)'))
    local t = 0
    while t + 2 <= #l do
      local r = tonumber(l[t + 2])
      if r == nil or r > top then break end
      t = t + 1
    end
    if f ~= nil and t > 0 then
      local last = tonumber(l[t + 1])
      local floor = base
      if last > base then floor = entryOf(last) end
      trims[#trims + 1] = {rk, t, itoa(f + t) .. ':' .. itoa(floor)}
    end
  end
end
-- Dedup fields of folded changes: the ones to point at their fold.
at = at + 2 * S
local repoint = {}
if D > 0 and redis.call('EXISTS', dedup) == 1 then
  for k = 1, D do
    local a = at + (k - 1) * 3
    if redis.call('HGET', dedup, ARGV[a + 1]) == ARGV[a + 2] then
      repoint[#repoint + 1] = ARGV[a + 1]
      repoint[#repoint + 1] = ARGV[a + 3]
    end
  end
end

-- Every check passed: write.
for i = 1, E, 1000 do
  redis.call('RPUSH', cold, unpack(texts, i, math.min(i + 999, E)))
end
redis.call('LTRIM', log, m, -1)
redis.call('HSET', meta, 'logbase', itoa(top))
if history then
  redis.call('HSET', meta, 'history', itoa(math.max(0, history - removed + added)))
end
for _, tr in ipairs(trims) do
  redis.call('LTRIM', tr[1], tr[2], -1)
  redis.call('LSET', tr[1], 0, tr[3])
end
if #highest > 0 then
  redis.call('HSET', sessions, unpack(highest))
end
for i = 1, #repoint, 1000 do
  redis.call('HSET', dedup, unpack(repoint, i, math.min(i + 999, #repoint)))
end
return {removed, added}
