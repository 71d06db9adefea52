package redis

import (
	"container/list"
	"sync"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// DefaultCacheBytes is the default bound of Options.CacheBytes.
const DefaultCacheBytes = 64 << 20

// docCache keeps the text of recently used notes at a known revision, as
// ot.Documents, so that Append can apply each new operation to the text it
// is based on (rejecting, say, a boundary inside a surrogate pair, which no
// length check can see) without reading the text from Redis each time. The
// note's log is the truth: an entry is only a copy of the text at entry.rev,
// caught up from the log or dropped when in doubt.
//
// Entries are evicted least recently used first once their texts exceed
// maxBytes in total.
type docCache struct {
	mu       sync.Mutex
	entries  map[scribe.NoteID]*list.Element // of *docEntry
	lru      list.List                       // front: most recently used
	bytes    int
	maxBytes int
}

// docEntry is one note's cached text. mu is held for the whole of an
// Append (including its round trip to Redis), so one node's appends to one
// note are serialised, as they would conflict anyway.
type docEntry struct {
	id scribe.NoteID
	mu sync.Mutex
	// Guarded by mu:
	doc *ot.Document // nil: unknown, load it
	rev scribe.Revision
	// recorded holds the attendee keys an append has lately passed to
	// append.lua and seen committed: the note's people field has them
	// (or was full), and nothing takes a person out of it, so later
	// appends need not pass them again (appendArgs). Forgotten with the
	// text and recordedFor after recordedSince, so that a record a Redis
	// failover lost comes back with its author's next edit after that.
	recorded      map[string]bool
	recordedSince time.Time
	// Guarded by docCache.mu:
	size int // bytes accounted in docCache.bytes
}

func newDocCache(maxBytes int) *docCache {
	return &docCache{entries: make(map[scribe.NoteID]*list.Element), maxBytes: maxBytes}
}

// entryOverhead is what an entry counts against the bound besides its
// text, so that entries without a text (say, for ids of no note) are
// bounded too.
const entryOverhead = 256

// get returns the note's entry, creating an empty one, and marks it used.
// The caller locks entry.mu before using doc and rev.
func (c *docCache) get(id scribe.NoteID) *docEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*docEntry)
	}
	e := &docEntry{id: id, size: entryOverhead}
	c.entries[id] = c.lru.PushFront(e)
	c.bytes += e.size
	c.evict(e)
	return e
}

// remove forgets the note's entry if it is e.
func (c *docCache) remove(e *docEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.id]; ok && el.Value.(*docEntry) == e {
		c.lru.Remove(el)
		delete(c.entries, e.id)
		c.bytes -= e.size
	}
}

// peek returns the note's entry if there is one, without creating it.
func (c *docCache) peek(id scribe.NoteID) *docEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		return el.Value.(*docEntry)
	}
	return nil
}

// resize records the size of e's text in bytes (0 when it has none) and
// evicts the least recently used entries beyond the bound. The caller holds
// e.mu; an evicted entry that is in use is simply no longer found by later
// calls.
func (c *docCache) resize(e *docEntry, textBytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.id]; !ok || el.Value.(*docEntry) != e {
		return // evicted meanwhile
	}
	size := entryOverhead + textBytes
	c.bytes += size - e.size
	e.size = size
	c.evict(e)
}

// evict drops least recently used entries until the cache fits its bound,
// keeping keep (the entry just used) unless it alone is too large. The
// caller holds c.mu.
func (c *docCache) evict(keep *docEntry) {
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		el := c.lru.Back()
		old := el.Value.(*docEntry)
		if old == keep && c.lru.Len() > 1 {
			el = el.Prev()
			old = el.Value.(*docEntry)
		}
		c.lru.Remove(el)
		delete(c.entries, old.id)
		c.bytes -= old.size
		if old == keep {
			return
		}
	}
}

// clear forgets every entry (entries in use by an Append stay valid for it).
func (c *docCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.lru.Init()
	c.bytes = 0
}
