package bolt

import (
	"bytes"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Bounds of the head cache: how many notes, and how many UTF-16 code units
// in all, the writer keeps in memory.
const (
	maxHeadNotes = 1024
	maxHeadUnits = 16 << 20 // 32 MiB of text
)

// heads caches the text at the head revision of recently appended notes, as
// ot.Documents, so that Append can apply each new op to the real text (and
// so reject an op that splits a surrogate pair, which its base length does
// not reveal) at O(log n) per op, and write snapshots without replaying.
// Only the writer goroutine uses it, so it has no lock.
//
// An entry is trusted only at the revision it was built for; the writer
// drops an entry whenever a transaction that touched it fails.
type heads struct {
	m     map[scribe.NoteID]*head
	units int
	clock uint64
}

type head struct {
	rev  int64
	doc  *ot.Document
	len  int // units, as counted in heads.units
	used uint64

	// The note's metadata as the writer last wrote it: the sealed bytes
	// (stored) and their decoding (meta, never changed once here). plan
	// reuses meta only while the stored bytes are still these, so any other
	// write of the metadata (UpdateNote, compaction, anything) is seen
	// without being told of.
	stored []byte
	meta   *meta
}

func newHeads() *heads { return &heads{m: make(map[scribe.NoteID]*head)} }

// get returns the note's cached head at rev, or nil.
func (h *heads) get(id scribe.NoteID, rev int64) *head {
	e := h.m[id]
	if e == nil {
		return nil
	}
	if e.rev != rev {
		h.drop(id)
		return nil
	}
	h.clock++
	e.used = h.clock
	return e
}

// put caches doc as the note's text at rev, evicting the least recently
// used entries beyond the bounds.
func (h *heads) put(id scribe.NoteID, rev int64, doc *ot.Document) *head {
	h.drop(id)
	h.clock++
	e := &head{rev: rev, doc: doc, len: doc.Len(), used: h.clock}
	h.m[id] = e
	h.units += e.len
	return e
}

// update records that e's document moved to rev.
func (h *heads) update(e *head, rev int64) {
	e.rev = rev
	h.units += e.doc.Len() - e.len
	e.len = e.doc.Len()
}

// trim evicts least recently used entries until the cache is within bounds.
// It runs between transactions, never while an entry is in use.
func (h *heads) trim() {
	for len(h.m) > maxHeadNotes || h.units > maxHeadUnits && len(h.m) > 1 {
		var oldest scribe.NoteID
		var min uint64 = ^uint64(0)
		for id, e := range h.m {
			if e.used < min {
				oldest, min = id, e.used
			}
		}
		h.drop(oldest)
	}
}

func (h *heads) drop(id scribe.NoteID) {
	if e := h.m[id]; e != nil {
		h.units -= e.len
		delete(h.m, id)
	}
}

// meta returns a copy of the note's metadata, decoded from its stored
// bytes v: from the cache when the writer last wrote exactly v, else by
// decoding v (getMeta's checks).
func (h *heads) meta(id scribe.NoteID, v []byte) (*meta, error) {
	if e := h.m[id]; e != nil && e.meta != nil && bytes.Equal(e.stored, v) {
		return e.meta.clone(), nil
	}
	return decodeMeta(id, v)
}

// wrote records that the writer stored m as the note's metadata, sealed
// as stored. The entry is dropped with the rest if the transaction fails.
func (h *heads) wrote(id scribe.NoteID, stored []byte, m *meta) {
	if e := h.m[id]; e != nil {
		e.stored, e.meta = stored, m
	}
}
