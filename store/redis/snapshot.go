package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/scribe-notes/scribe"
)

// snapshotTimeout bounds one snapshot job.
const snapshotTimeout = 30 * time.Second

// unitsPerSnapshotOp scales the snapshot interval with the text: a note of
// n units is snapshotted every max(K, n/unitsPerSnapshotOp) changes.
// Writing a snapshot copies the whole text (in Go, over the network, into
// Redis, which serves nothing else meanwhile); replaying a small change on
// an ot.Document costs about what copying a few hundred bytes does. So a
// large note that changes fast is not snapshotted every K changes (at
// 20,000 changes a second on a 300 KB note, K = 100 meant 60 MB a second
// of snapshots), and a load replays at most 2·max(K, n/256): 8,192
// changes for a 1 MB note, a few milliseconds.
const unitsPerSnapshotOp = 256

// interval is the snapshot interval for a text of units UTF-16 units.
func (s *Store) interval(units int) int64 {
	return max(s.k, int64(units)/unitsPerSnapshotOp)
}

// scheduleSnapshot asks the worker to snapshot the note at its head. Jobs
// for a note already queued or running coalesce into that one; a full queue
// drops the job (the next crossing of a multiple of K, or the next load,
// schedules it again). It never blocks the append that calls it.
func (s *Store) scheduleSnapshot(id scribe.NoteID) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.snapWant[id] {
		return
	}
	select {
	case s.snapQueue <- id:
		s.snapWant[id] = true
	default:
	}
}

// snapshotLoop runs snapshot jobs until Close.
func (s *Store) snapshotLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case id := <-s.snapQueue:
			// Clear the mark first: an append that lands while the job runs
			// schedules another, so the latest head is always covered.
			s.snapMu.Lock()
			delete(s.snapWant, id)
			s.snapMu.Unlock()
			ctx, cancel := context.WithTimeout(s.ctx, snapshotTimeout)
			if err := s.snapshot(ctx, id); err != nil && s.ctx.Err() == nil {
				s.log.Error("snapshot", "err", err)
			}
			cancel()
		}
	}
}

// snapshot stores the note's text at its current head, unless a snapshot at
// that revision or later is already stored.
func (s *Store) snapshot(ctx context.Context, id scribe.NoteID) error {
	// The text an Append on this node left in the cache is the text at a
	// committed revision: store it without reading the log. (TryLock: an
	// Append in flight holds the entry; then read the log instead.)
	if e := s.cache.peek(id); e != nil && e.mu.TryLock() {
		doc, rev := e.doc, e.rev
		var text string
		if doc != nil {
			text = doc.String()
		}
		e.mu.Unlock()
		if doc != nil && rev > 0 {
			// Another node may have moved the note on; if the cached
			// revision is not newer than the stored snapshot, read the log.
			if wrote, err := s.storeSnapshot(ctx, id, rev, text); err != nil || wrote {
				return err
			}
		}
	}
	doc, snapRev, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if doc.Revision == snapRev {
		return nil
	}
	return s.writeSnapshot(ctx, id, doc.Revision, doc.Text)
}

// writeSnapshot stores text as the note's snapshot at rev if it is newer
// than the stored one.
func (s *Store) writeSnapshot(ctx context.Context, id scribe.NoteID, rev scribe.Revision, text string) error {
	_, err := s.storeSnapshot(ctx, id, rev, text)
	return err
}

// storeSnapshot is writeSnapshot that also reports whether it wrote.
func (s *Store) storeSnapshot(ctx context.Context, id scribe.NoteID, rev scribe.Revision, text string) (bool, error) {
	// histSnapshotScript stores the snapshot and keeps the one it
	// replaces for history when one is due (history.go).
	// With it goes who wrote the text (authors.go).
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "snap"), s.noteKey(id, "hist"), s.noteKey(id, "histrevs"), s.noteKey(id, "authors")}
	n, err := histSnapshotScript.Run(ctx, s.client, keys, strconv.FormatInt(int64(rev), 10), text, s.histEvery, s.snapshotAuthors(ctx, id, rev)).Int()
	if err != nil {
		return false, s.wrap(ctx, "write snapshot", err)
	}
	return n == 1, nil
}
