-- cold.lua: what every script that reads a note's history needs to know
-- about compaction (compact.go). Go prepends it to those scripts, so each
-- stays one script, run atomically.
--
-- A note's history is two lists, in its slot:
--   cold  the compacted part, revisions 1 .. logbase: one element per
--         entry, oldest first. An entry is a fold ({"r":last,"f":first,...},
--         the composition of the changes first..last) or a single change
--         moved as it was ({"r":rev,...}). Entries are consecutive: each
--         one's first revision is the one before's last plus one.
--   log   the hot part, revisions logbase+1 .. head: element i is the
--         change of revision logbase+1+i.
-- meta's "logbase" field is the revision before the log's first element;
-- a note written before compaction existed has none, which is 0.
--
-- The addressable revisions (whose text can be read) are 0, every revision
-- above logbase, and each cold entry's first-1 and last. A revision
-- strictly inside a fold (first <= rev < last) answers
--   EGONE <rev> <below> <above>
-- (below = first-1, above = last), which Go turns into scribe.FoldedError.

local function coldLogbase(meta)
  local v = redis.call('HGET', meta, 'logbase')
  if not v then return 0 end
  local n = tonumber(v)
  if n == nil or n < 0 or n ~= math.floor(n) then return nil end
  return n
end

-- coldHead returns the note's head revision from meta, or nil and the
-- complaint: ENOTFOUND when there is no note, ECORRUPT when its rev is
-- not a revision. (textat, authorsat and checkpoint start with it.)
local function coldHead(meta)
  local head = redis.call('HGET', meta, 'rev')
  if not head then return nil, 'ENOTFOUND note' end
  head = tonumber(head)
  if head == nil or head < 0 or head ~= math.floor(head) then
    return nil, 'ECORRUPT note metadata'
  end
  return head
end

-- coldRevs returns the last and first revision of a cold entry, or nil
-- when it is not one.
local function coldRevs(e)
  if type(e) ~= 'string' then return nil end
  local r, f = string.match(e, '^{"r":(%d+),"f":(%d+),')
  if r then
    r, f = tonumber(r), tonumber(f)
    if f < 1 or f > r then return nil end
    return r, f
  end
  r = tonumber(string.match(e, '^{"r":(%d+),'))
  if r == nil or r < 1 then return nil end
  return r, r
end

-- coldFind returns the 0-based index, first and last revision of the cold
-- entry holding rev (1 <= rev <= logbase), by binary search: O(log n)
-- LINDEXes. nil and a complaint when the list does not cover rev.
local function coldFind(cold, rev)
  local lo, hi = 0, redis.call('LLEN', cold) - 1
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    local last, first = coldRevs(redis.call('LINDEX', cold, mid))
    if last == nil then return nil, 'ECORRUPT compacted history' end
    if rev < first then
      hi = mid - 1
    elseif rev > last then
      lo = mid + 1
    else
      return mid, first, last
    end
  end
  return nil, 'ECORRUPT compacted history does not cover a revision'
end

local function coldGone(rev, first, last)
  return 'EGONE ' .. string.format('%d %d %d', rev, first - 1, last)
end

-- coldAddressable returns true when rev's text can be read (see above),
-- else false and the EGONE complaint (or an ECORRUPT one).
local function coldAddressable(cold, logbase, rev)
  if rev <= 0 or rev >= logbase then return true end
  local _, first, last = coldFind(cold, rev)
  if first == nil then return false, last end
  if rev == last then return true end
  return false, coldGone(rev, first, last)
end

-- coldRange returns the entries that take the text from revision from to
-- revision to (from <= to <= head): cold entries, then log elements. Both
-- must be addressable; else nil and the complaint.
local function coldRange(cold, log, logbase, from, to)
  local out = {}
  if to <= from then return out end
  if from < logbase then
    local i, first, last = coldFind(cold, from + 1)
    if i == nil then return nil, first end
    if first ~= from + 1 then return nil, coldGone(from, first, last) end
    local hi = math.min(to, logbase)
    local j = i
    if last < hi then
      j, first, last = coldFind(cold, hi)
      if j == nil then return nil, first end
    end
    if last ~= hi then return nil, coldGone(hi, first, last) end
    out = redis.call('LRANGE', cold, i, j)
  end
  if to > logbase then
    -- The log index of revision r is r-1-logbase.
    local hot = redis.call('LRANGE', log, math.max(from, logbase) - logbase, to - 1 - logbase)
    for _, e in ipairs(hot) do out[#out + 1] = e end
  end
  return out
end
