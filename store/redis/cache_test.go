package redis

import (
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// TestDocCacheBound shows the cache keeps within its bound, evicting the
// least recently used entries first, and that entries without a text (ids
// of no note) count too, so no stream of ids grows it without bound.
func TestDocCacheBound(t *testing.T) {
	c := newDocCache(10 * entryOverhead)
	for i := 0; i < 1000; i++ {
		c.get(scribe.NewNoteID())
	}
	if len(c.entries) > 10 || c.bytes > c.maxBytes {
		t.Fatalf("%d entries, %d bytes; bound %d", len(c.entries), c.bytes, c.maxBytes)
	}

	c = newDocCache(4*entryOverhead + 2000)
	ids := make([]scribe.NoteID, 4)
	for i := range ids {
		ids[i] = scribe.NewNoteID()
		e := c.get(ids[i])
		e.mu.Lock()
		e.doc, _ = ot.NewDocument("0123456789") // 20 bytes of text
		c.resize(e, docSize(e.doc))
		e.mu.Unlock()
	}
	c.get(ids[0]) // ids[1] is now the least recently used
	big := c.get(scribe.NewNoteID())
	big.mu.Lock()
	c.resize(big, 1800) // room for it means evicting one entry
	big.mu.Unlock()
	if c.peek(ids[1]) != nil || c.peek(ids[0]) == nil || c.peek(big.id) == nil {
		t.Fatalf("evicted the wrong entries: %d left", len(c.entries))
	}
	if c.bytes > c.maxBytes {
		t.Fatalf("%d bytes over the bound %d", c.bytes, c.maxBytes)
	}
	// An entry larger than the whole bound is not kept.
	huge := c.get(scribe.NewNoteID())
	huge.mu.Lock()
	c.resize(huge, 10*c.maxBytes)
	huge.mu.Unlock()
	if c.peek(huge.id) != nil || c.bytes > c.maxBytes {
		t.Fatalf("kept an entry larger than the bound (%d bytes)", c.bytes)
	}
	c.remove(c.get(ids[0]))
	if c.peek(ids[0]) != nil {
		t.Fatal("remove kept the entry")
	}
}
