package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

// History (scribe.HistoryStore). Two more buckets under logs/<id>, created
// on first use (notes written before history have neither):
//
//	logs/<id>/hist/<rev>          -> text at rev (history snapshots)
//	logs/<id>/marks/<rev><nanos>  -> checkpoint JSON (named checkpoints)
//
// History snapshots cost no extra text: when an append replaces the latest
// snapshot (every SnapshotEvery revisions) the one it replaces moves to hist
// instead of being deleted, if it is the note's first (revision 0) or at
// least HistoryEvery revisions after the newest one in hist. So TextAt
// replays at most about HistoryEvery + SnapshotEvery changes.

var (
	bucketHist  = []byte("hist")
	bucketMarks = []byte("marks")
)

// keepHistory moves the snapshot at rev old (about to be replaced) into the
// note's history snapshots when one is due there. It runs inside the
// append's transaction, once every SnapshotEvery revisions.
func (s *Store) keepHistory(tx *bbolt.Tx, id scribe.NoteID, snaps *bbolt.Bucket, old int64) error {
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return corrupt(id, "the log bucket is missing")
	}
	hist, err := nb.CreateBucketIfNotExists(bucketHist)
	if err != nil {
		return err
	}
	if k, _ := hist.Cursor().Last(); k != nil && old < int64(binary.BigEndian.Uint64(k))+int64(s.opts.HistoryEvery) {
		return nil
	}
	v := snaps.Get(revKey(old))
	if v == nil {
		return nil // nothing to keep (a corrupt note says so when read)
	}
	hist.FillPercent = 1.0 // revisions only grow
	return hist.Put(revKey(old), bytes.Clone(v))
}

// TextAt returns the note's text at rev: the nearest snapshot at or below
// rev (the latest one or a history snapshot) plus the changes since.
func (s *Store) TextAt(ctx context.Context, id scribe.NoteID, rev scribe.Revision) (string, error) {
	if err := s.begin(ctx); err != nil {
		return "", err
	}
	var text string
	err := s.view("text at revision", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if rev < 0 || int64(rev) > m.Rev {
			return scribe.Errorf(scribe.EINVALID, "The note has revisions 0 to %d, not %d.", m.Rev, rev)
		}
		base, sv := int64(-1), []byte(nil)
		nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
		if nb == nil {
			return corrupt(id, "the log bucket is missing")
		}
		for _, name := range [][]byte{bucketSnap, bucketHist} {
			if b := nb.Bucket(name); b != nil {
				if k, v := atOrBelow(b, int64(rev)); k >= 0 && k > base {
					base, sv = k, v
				}
			}
		}
		if base < 0 {
			return scribe.Errorf(scribe.ENOTFOUND, "Revision %d is older than the history kept for this note.", rev)
		}
		sv, ok := unseal(sv)
		if !ok || !utf8.Valid(sv) {
			return corrupt(id, "the snapshot at revision %d", base)
		}
		ops, err := noteBucket(tx, id, bucketOps)
		if err != nil {
			return err
		}
		stored, err := readOps(id, ops, base, int64(rev))
		if err != nil {
			return err
		}
		t, failed, err := replay(string(sv), stored)
		if err != nil {
			return corrupt(id, "operation %d after the snapshot at revision %d does not apply: %v", failed+1, base, err)
		}
		text = t
		return nil
	})
	return text, err
}

// atOrBelow returns the greatest key <= rev in b and its value, or -1.
func atOrBelow(b *bbolt.Bucket, rev int64) (int64, []byte) {
	c := b.Cursor()
	k, v := c.Seek(revKey(rev))
	if k == nil || int64(binary.BigEndian.Uint64(k)) > rev {
		k, v = c.Prev()
	}
	if len(k) != 8 {
		return -1, nil
	}
	return int64(binary.BigEndian.Uint64(k)), v
}

// AddCheckpoint records a named checkpoint; see scribe.HistoryStore.
func (s *Store) AddCheckpoint(ctx context.Context, id scribe.NoteID, c scribe.Checkpoint) (scribe.Checkpoint, error) {
	if err := s.begin(ctx); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Round(0)
	err := s.update("add checkpoint", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if int64(c.Rev) > m.Rev {
			return scribe.Errorf(scribe.EINVALID, "The note is at revision %d; a checkpoint cannot be at %d.", m.Rev, c.Rev)
		}
		nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
		if nb == nil {
			return corrupt(id, "the log bucket is missing")
		}
		if err := addressable(tx, id, int64(c.Rev)); err != nil {
			return err
		}
		marks, err := nb.CreateBucketIfNotExists(bucketMarks)
		if err != nil {
			return err
		}
		v, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode checkpoint: %w", err)
		}
		key := append(revKey(int64(c.Rev)), u64(uint64(c.Time.UnixNano()))...)
		return marks.Put(key, seal(v))
	})
	return c, err
}

// Checkpoints returns named checkpoints below before, newest first.
func (s *Store) Checkpoints(ctx context.Context, id scribe.NoteID, before scribe.Revision, limit int) ([]scribe.Checkpoint, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 || limit > scribe.MaxCheckpointPage {
		return nil, scribe.Errorf(scribe.EINVALID, "A page of checkpoints has 1 to %d entries.", scribe.MaxCheckpointPage)
	}
	var out []scribe.Checkpoint
	err := s.view("checkpoints", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if before <= 0 || int64(before) > m.Rev+1 {
			before = scribe.Revision(m.Rev + 1)
		}
		nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
		if nb == nil {
			return corrupt(id, "the log bucket is missing")
		}
		marks := nb.Bucket(bucketMarks)
		if marks == nil {
			return nil
		}
		c := marks.Cursor()
		var v []byte
		k, _ := c.Seek(revKey(int64(before)))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			b, ok := unseal(v)
			var cp scribe.Checkpoint
			if !ok || json.Unmarshal(b, &cp) != nil || len(k) != 16 || int64(cp.Rev) != int64(binary.BigEndian.Uint64(k)) {
				return corrupt(id, "a checkpoint at key %x", k)
			}
			out = append(out, cp)
		}
		return nil
	})
	return out, err
}
