package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Compaction (scribe.Compactor). Folds replace the per-change keys in
// logs/<id>/ops: a fold of revisions F..L is one entry at key L whose
// change has First = F and the composed op; the keys F..L-1 are deleted,
// and so are their seqs entries but the last one (which maps the fold's
// last seq to L, so LastSeq is unchanged). Snapshots, history snapshots,
// authorship and named checkpoints are not touched: a fold never has one
// strictly inside it. bbolt reuses the freed pages, so the file stops
// growing without `bbolt compact`.
//
// meta.Cold is how far the note's log has been through compaction:
// entries at or below it are decided (folded, or left alone for good).
// A step resumes each note at Cold+1, so it never reads what it decided
// before, and a resend of a (session, seq) that has no seqs entry any
// more is recognised as a duplicate by the next entry of its session at or
// below Cold (the fold that holds it).

// maxCompactScan bounds how many notes one CompactStep examines; the next
// step goes on from where it stopped.
const maxCompactScan = 10_000

// CompactStep folds at most budget cold changes; see scribe.Compactor. A
// read transaction finds the notes with cold changes to fold (examining
// at most maxCompactScan notes, without holding up appends); then one
// write transaction folds them, so appends wait for as long as budget
// changes take to fold (docs/operations.md: about 9 ms for 1,000).
func (s *Store) CompactStep(ctx context.Context, now time.Time, hotAge time.Duration, budget int) (scribe.CompactStats, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.CompactStats{}, err
	}
	if budget < 1 || hotAge <= 0 {
		return scribe.CompactStats{}, scribe.Errorf(scribe.EINVALID, "Compaction needs a budget of at least 1 change and a hot age above 0, not %d and %v.", budget, hotAge)
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	var work []scribe.NoteID
	next := "" // where the next step starts: the first note
	err := s.view("compact", func(tx *bbolt.Tx) error {
		ids := compactOrder(tx, s.compactNext)
		if len(ids) == maxCompactScan {
			next = string(ids[len(ids)-1]) // not every note was examined
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			m, err := getMeta(tx, id)
			if err != nil {
				return err
			}
			if m.Cold < m.Rev && s.coldAfter(tx, id, m, now, hotAge) {
				work = append(work, id)
			}
		}
		return nil
	})
	if err != nil || len(work) == 0 {
		if err == nil {
			s.compactNext = next
		}
		return scribe.CompactStats{}, err
	}
	var st scribe.CompactStats
	err = s.update("compact", func(tx *bbolt.Tx) error {
		st = scribe.CompactStats{}
		left := budget
		for i, id := range work {
			if err := ctx.Err(); err != nil {
				return err
			}
			more, err := s.compactNote(tx, id, now, hotAge, &left, &st)
			if err != nil {
				return fmt.Errorf("note %s: %w", id, err)
			}
			if more {
				st.Behind = len(work) - i // this note and those after it
				next = string(id)         // resume here
				break
			}
		}
		return nil
	})
	if err != nil {
		return scribe.CompactStats{}, err
	}
	s.compactNext = next
	s.folded.Add(int64(st.Changes))
	s.freed.Add(st.Bytes)
	return st, nil
}

// compactOrder returns up to maxCompactScan note ids, starting at from (or
// the first note) and going round once.
func compactOrder(tx *bbolt.Tx, from string) []scribe.NoteID {
	var ids []scribe.NoteID
	c := tx.Bucket(bucketNotes).Cursor()
	for k, _ := c.Seek([]byte(from)); k != nil && len(ids) < maxCompactScan; k, _ = c.Next() {
		ids = append(ids, scribe.NoteID(bytes.Clone(k)))
	}
	for k, _ := c.First(); k != nil && string(k) < from && len(ids) < maxCompactScan; k, _ = c.Next() {
		ids = append(ids, scribe.NoteID(bytes.Clone(k)))
	}
	return ids
}

// compactNote folds the note's cold changes after meta.Cold, using up at
// most *left changes of the budget, and reports whether cold changes are
// left that the budget did not reach.
func (s *Store) compactNote(tx *bbolt.Tx, id scribe.NoteID, now time.Time, hotAge time.Duration, left *int, st *scribe.CompactStats) (bool, error) {
	m, err := getMeta(tx, id)
	if err != nil {
		return false, err
	}
	if m.Cold >= m.Rev || *left <= 0 {
		return *left <= 0 && m.Cold < m.Rev && s.coldAfter(tx, id, m, now, hotAge), nil
	}
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return false, corrupt(id, "the log bucket is missing")
	}
	ops, err := noteBucket(tx, id, bucketOps)
	if err != nil {
		return false, err
	}
	// A revision that must stay addressable: a fold may end there, or
	// start after it, but not hold it before its end.
	hist, snap, marks := nb.Bucket(bucketHist), nb.Bucket(bucketSnap), nb.Bucket(bucketMarks)
	boundary := func(r scribe.Revision) bool {
		k := revKey(int64(r))
		if r == 0 || int64(r) == m.SnapRev || hist != nil && hist.Get(k) != nil || snap != nil && snap.Get(k) != nil {
			return true
		}
		if marks != nil {
			mk, _ := marks.Cursor().Seek(k)
			return mk != nil && bytes.HasPrefix(mk, k)
		}
		return false
	}
	joins := func(prev, c *scribe.Change) bool {
		return c.Session == prev.Session && c.Author == prev.Author && c.Email == prev.Email &&
			c.First == 0 && len(c.Credit) == 0 &&
			c.Time.Truncate(time.Minute).Equal(prev.Time.Truncate(time.Minute)) && !boundary(prev.Revision)
	}

	// Read and decide first (a cursor is not to be moved over a bucket
	// being written), then write.
	var runs [][]scribe.Change
	var cur []scribe.Change
	decided := m.Cold
	end := func() {
		if len(cur) > 0 {
			runs = append(runs, cur)
			decided = int64(cur[len(cur)-1].Revision)
			cur = nil
		}
	}
	more := false
	err = readLog(id, ops, m.Cold, m.Rev, func(c *scribe.Change) error {
		if !scribe.Cold(c.Time, now, hotAge) {
			return errStop
		}
		if *left == 0 {
			more = true
			return errStop
		}
		*left--
		if len(cur) > 0 && !joins(&cur[len(cur)-1], c) {
			end()
		}
		cur = append(cur, *c)
		if c.First != 0 || len(c.Credit) > 0 {
			end() // never joined
		}
		return nil
	})
	if err != nil && err != errStop {
		return false, err
	}
	if more && len(cur) == 1 {
		cur = nil // the next change may join it: undecided
	}
	end()
	if decided == m.Cold {
		return more, nil
	}
	var freed int64
	for _, run := range runs {
		if len(run) < 2 {
			continue
		}
		n, err := s.fold(tx, id, run)
		if err != nil {
			return false, err
		}
		freed += n
		st.Changes += len(run)
		st.Folds++
	}
	st.Bytes += freed
	m.History = max(m.History-freed, 0)
	m.Cold = decided
	_, _, err = putMeta(tx, id, m)
	return more, err
}

// errStop ends a readLog early.
var errStop = fmt.Errorf("stop")

// coldAfter reports whether the change after m.Cold is cold.
func (s *Store) coldAfter(tx *bbolt.Tx, id scribe.NoteID, m *meta, now time.Time, hotAge time.Duration) bool {
	ops := tx.Bucket(bucketLogs).Bucket([]byte(id)).Bucket(bucketOps)
	if ops == nil {
		return false
	}
	k, v := ops.Cursor().Seek(revKey(m.Cold + 1))
	if k == nil {
		return false
	}
	c, err := decodeEntry(id, k, v)
	return err == nil && scribe.Cold(c.Time, now, hotAge)
}

// fold replaces run (consecutive changes by one author, two or more) with
// one fold, and returns the history bytes it freed.
func (s *Store) fold(tx *bbolt.Tx, id scribe.NoteID, run []scribe.Change) (int64, error) {
	last := run[len(run)-1]
	var sum ot.Operation
	var freed int64
	for i, c := range run {
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			return 0, corrupt(id, "operation at revision %d: %v", c.Revision, err)
		}
		if i == 0 {
			sum = op
		} else if sum, err = ot.Compose(sum, op); err != nil {
			return 0, corrupt(id, "operation at revision %d does not follow the one before: %v", c.Revision, err)
		}
		freed += historyBytes(c)
	}
	canon, _ := sum.MarshalJSON() // never fails
	f := last
	f.First, f.Op = run[0].Revision, canon
	freed -= historyBytes(f)
	v, err := json.Marshal(&f)
	if err != nil {
		return 0, fmt.Errorf("encode fold: %w", err)
	}
	ops, err := noteBucket(tx, id, bucketOps)
	if err != nil {
		return 0, err
	}
	seqs, err := noteBucket(tx, id, bucketSeqs)
	if err != nil {
		return 0, err
	}
	for _, c := range run[:len(run)-1] {
		if err := ops.Delete(revKey(int64(c.Revision))); err != nil {
			return 0, err
		}
		if err := seqs.Delete(seqKey(c.Session, c.Seq)); err != nil {
			return 0, err
		}
	}
	return freed, ops.Put(revKey(int64(last.Revision)), seal(v))
}

// foldedSeq returns the revision of the fold that holds a (session, seq)
// whose seqs entry compaction removed: the session's next entry, when it
// is at or below cold (sessions' seqs grow with revisions, so the next
// entry kept is the end of the fold that took the missing one).
func foldedSeq(seqs *bbolt.Bucket, session string, seq uint64, cold int64) (scribe.Revision, bool) {
	prefix := seqPrefix(session)
	k, v := seqs.Cursor().Seek(seqKey(session, seq))
	if k == nil || len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
		return 0, false
	}
	v, ok := unseal(v)
	if !ok || len(v) != 8 {
		return 0, false
	}
	rev := int64(binary.BigEndian.Uint64(v))
	return scribe.Revision(rev), rev <= cold
}

// addressable returns the FoldedError of rev if it is inside a fold.
func addressable(tx *bbolt.Tx, id scribe.NoteID, rev int64) error {
	ops, err := noteBucket(tx, id, bucketOps)
	if err != nil {
		return err
	}
	k, v := ops.Cursor().Seek(revKey(rev))
	if k == nil {
		return nil
	}
	c, err := decodeEntry(id, k, v)
	if err != nil {
		return err
	}
	if c.First != 0 && int64(c.First) <= rev && rev < int64(c.Revision) {
		return scribe.Folded(scribe.Revision(rev), c.Base(), c.Revision)
	}
	return nil
}

// HistoryBytes returns the note's history as its budget counts it
// (storetest.HistorySizer).
func (s *Store) HistoryBytes(ctx context.Context, id scribe.NoteID) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.view("history bytes", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err == nil {
			n = m.History
		}
		return err
	})
	return n, err
}

// CompactCounts are the store's compaction totals since Open, for
// /metrics.
type CompactCounts struct {
	Folded int64 // changes merged into folds
	Freed  int64 // history bytes freed
}

// CompactCounts returns the totals. It is safe to call at any time.
func (s *Store) CompactCounts() CompactCounts {
	return CompactCounts{Folded: s.folded.Load(), Freed: s.freed.Load()}
}
