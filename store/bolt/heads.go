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

	// The note's metadata as the writer last wrote it: the sealed bytes of
	// the meta and of its head record (stored, storedHead) and their
	// decoding (meta, never changed once here). plan reuses meta only while
	// the stored bytes are still these, so any other write of the metadata
	// (UpdateNote, compaction, anything) is seen without being told of.
	stored, storedHead []byte
	meta               *meta
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
// bytes v and head record hv: from the cache when the writer last wrote
// exactly those, else by decoding them (getMeta's checks). It also returns
// the meta's bytes in memory of its own (v lives only as long as the
// transaction), for wrote when the meta itself is not rewritten.
func (h *heads) meta(id scribe.NoteID, v, hv []byte) (*meta, []byte, error) {
	if e := h.m[id]; e != nil && e.meta != nil && bytes.Equal(e.stored, v) && bytes.Equal(e.storedHead, hv) {
		return e.meta.clone(), e.stored, nil
	}
	m, err := decodeMeta(id, v, hv)
	return m, bytes.Clone(v), err
}

// wrote records that the note's metadata is now m, stored as the sealed
// bytes stored and head (its head record). The entry is dropped with the
// rest if the transaction fails.
func (h *heads) wrote(id scribe.NoteID, stored, head []byte, m *meta) {
	if e := h.m[id]; e != nil {
		e.stored, e.storedHead, e.meta = stored, head, m
	}
}
