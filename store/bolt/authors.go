package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/authorship"
)

// Authorship (scribe.AuthorshipStore). One more bucket under logs/<id>:
//
//	logs/<id>/authors/<rev>  -> who wrote the text at rev (authorship.Encode)
//
// beside every snapshot from the latest (snap) and the history ones
// (hist): written in the append that writes the snapshot, from the
// authorship at the snapshot it replaces plus the changes since (at most
// about SnapshotEvery), and deleted with that snapshot unless it moves to
// hist. A note's revision 0 needs none: its text is nobody's. So
// AuthorsAt costs what TextAt costs. A note whose snapshots predate
// authorship replays from the newest revision that has one (revision 0,
// the first time; every snapshot after that has its own).

var bucketAuthors = []byte("authors")

// AuthorsAt returns who wrote the note's text at rev; see
// scribe.AuthorshipStore.
func (s *Store) AuthorsAt(ctx context.Context, id scribe.NoteID, rev scribe.Revision) (scribe.Authorship, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Authorship{}, err
	}
	var a scribe.Authorship
	err := s.view("authors at revision", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if rev < 0 || int64(rev) > m.Rev {
			return scribe.Errorf(scribe.EINVALID, "The note has revisions 0 to %d, not %d.", m.Rev, rev)
		}
		a, err = authorsAt(tx, id, int64(rev))
		return err
	})
	return a, err
}

// authorsAt is who wrote the text at rev (at most the head): the nearest
// authorship kept at or below rev, else revision 0's text as nobody's,
// plus the changes since.
func authorsAt(tx *bbolt.Tx, id scribe.NoteID, rev int64) (scribe.Authorship, error) {
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return scribe.Authorship{}, corrupt(id, "the log bucket is missing")
	}
	var a scribe.Authorship
	base := int64(-1)
	if b := nb.Bucket(bucketAuthors); b != nil {
		if k, v := atOrBelow(b, rev); k >= 0 {
			v, ok := unseal(v)
			var err error
			if a, err = authorship.Decode(v); !ok || err != nil || int64(a.Rev) != k {
				return a, corrupt(id, "the authorship at revision %d", k)
			}
			base = k
		}
	}
	if base < 0 {
		var text []byte
		for _, name := range [][]byte{bucketSnap, bucketHist} {
			if b := nb.Bucket(name); b != nil && text == nil {
				text = b.Get(revKey(0))
			}
		}
		if text == nil {
			return a, scribe.Errorf(scribe.ENOTFOUND, "Revision %d is older than the history kept for this note.", rev)
		}
		t, ok := unseal(text)
		if !ok {
			return a, corrupt(id, "the snapshot at revision 0")
		}
		a, base = authorship.Start(0, string(t)), 0
	}
	ops, err := noteBucket(tx, id, bucketOps)
	if err != nil {
		return a, err
	}
	changes := make([]scribe.Change, 0, min(rev-base, 4096))
	err = readLog(id, ops, base, rev, func(c *scribe.Change) error {
		changes = append(changes, *c)
		return nil
	})
	if err != nil {
		return a, err
	}
	if err := authorship.Replay(&a, changes); err != nil {
		return a, corrupt(id, "%v", err)
	}
	return a, nil
}

// keepAuthors writes who wrote the text at the new snapshot p.m.SnapRev,
// and drops the authorship of the snapshot it replaced unless that one
// moved to hist. It runs inside the append's transaction, after the
// changes and the snapshot are written. A note that has no authorship to
// start from (its revision 0 is gone) keeps none.
func keepAuthors(tx *bbolt.Tx, p *plan) error {
	a, err := authorsAt(tx, p.id, p.m.SnapRev)
	if scribe.ErrorCode(err) == scribe.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	nb := tx.Bucket(bucketLogs).Bucket([]byte(p.id)) // authorsAt found it
	b, err := nb.CreateBucketIfNotExists(bucketAuthors)
	if err != nil {
		return err
	}
	b.FillPercent = 0.9 // revisions mostly grow
	if err := b.Put(revKey(p.m.SnapRev), seal(authorship.Encode(a))); err != nil {
		return err
	}
	if hist := nb.Bucket(bucketHist); hist != nil && hist.Get(revKey(p.oldSnap)) != nil {
		return nil
	}
	return b.Delete(revKey(p.oldSnap))
}
