package protocol

import "github.com/scribe-notes/scribe/ot"

// Fingerprint identifies a text at a revision, so that a client and the
// server can tell whether their revision N is the same history (a store
// that lost acknowledged revisions reuses their numbers): the text's length
// in UTF-16 code units and the 32-bit FNV-1a hash of its UTF-8 bytes
// (docs/protocol.md). A browser computes the same with TextEncoder and
// Math.imul.
type Fingerprint struct {
	Len  int    // UTF-16 code units
	Hash uint32 // FNV-1a 32 of the UTF-8 bytes
}

// FingerprintOf returns text's fingerprint.
func FingerprintOf(text string) Fingerprint {
	h := uint32(2166136261)
	for i := 0; i < len(text); i++ {
		h ^= uint32(text[i])
		h *= 16777619
	}
	return Fingerprint{Len: ot.Len16(text), Hash: h}
}
