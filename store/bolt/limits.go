package bolt

import (
	"sync"
	"syscall"
	"time"

	"github.com/scribe-notes/scribe"
)

// Defaults of the store's limits.
const (
	// DefaultMinFreeBytes is the free space the data directory's disk must
	// keep for the store to accept a write (64 MiB: several appends of a
	// full note, bbolt's growth of the file by a page run, and room for the
	// rest of the machine to notice).
	DefaultMinFreeBytes = 64 << 20
	// DefaultMaxHistoryBytes is a note's history budget (64 MiB): about 300
	// pastes of 200 KB, or a few hundred thousand keystrokes.
	DefaultMaxHistoryBytes = 64 << 20
	// freeCheckEvery is how long a free-space reading is trusted.
	freeCheckEvery = time.Second
)

// FreeSpace reports the bytes free (to an unprivileged user) on the disk
// holding dir. StatfsFree is the real one; tests inject others.
type FreeSpace func(dir string) (uint64, error)

// StatfsFree is FreeSpace from syscall.Statfs: available blocks times the
// block size.
func StatfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// diskGuard refuses writes while the data directory's disk is nearly full.
// A reading is cached for freeCheckEvery, so a burst of appends costs one
// statfs a second. It is safe for concurrent use.
type diskGuard struct {
	dir  string
	min  uint64
	free FreeSpace

	mu     sync.Mutex
	at     time.Time
	left   uint64
	failed error
}

// check returns nil, or EUNAVAILABLE when less than min bytes are free. A
// failed statfs does not refuse writes (the write itself then reports what
// is wrong).
func (g *diskGuard) check() error {
	if g == nil || g.min == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); now.Sub(g.at) >= freeCheckEvery {
		g.left, g.failed = g.free(g.dir)
		g.at = now
	}
	if g.failed != nil || g.left >= g.min {
		return nil
	}
	return scribe.Errorf(scribe.EUNAVAILABLE, "The server's disk is nearly full (%d MiB free, the minimum is %d MiB): nothing can be saved until space is freed.", g.left>>20, g.min>>20)
}

// historyBytes is what a change counts against its note's history budget:
// its op, session id and author as stored (the JSON around them is a few
// dozen bytes more, the same for every change).
func historyBytes(c scribe.Change) int64 {
	return int64(len(c.Op) + len(c.Session) + len(c.Author))
}

// historyFull is the error for an append that would take a note's history
// past the budget.
func historyFull(stored, adding, budget int64) error {
	return scribe.Errorf(scribe.ETOOLARGE, "This note's history would exceed its limit of %d bytes (%d stored, this edit adds %d); the note accepts no more edits. Copy its text into a new note to go on.", budget, stored, adding)
}
