package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

func shareNotFound() error {
	return scribe.Errorf(scribe.ENOTFOUND, "Share link not found or revoked.")
}

func shareIndexKey(t time.Time, tok scribe.Token) []byte {
	return append(u64(uint64(t.UnixNano())), tok...)
}

// getShare reads a token's record: ENOTFOUND if absent, EINTERNAL if corrupt.
func getShare(tx *bbolt.Tx, tok scribe.Token) (*shareRecord, error) {
	if !tok.Valid() {
		return nil, shareNotFound()
	}
	v := tx.Bucket(bucketShares).Get([]byte(tok))
	if v == nil {
		return nil, shareNotFound()
	}
	v, ok := unseal(v)
	if !ok {
		return nil, scribe.Errorf(scribe.EINTERNAL, "Stored share %s is corrupt: checksum mismatch.", tok)
	}
	var r shareRecord
	if err := json.Unmarshal(v, &r); err != nil || !r.Note.Valid() {
		return nil, scribe.Errorf(scribe.EINTERNAL, "Stored share %s is corrupt: %v.", tok, err)
	}
	return &r, nil
}

// CreateShare creates a read-only token for the note.
func (s *Store) CreateShare(ctx context.Context, id scribe.NoteID, meta ...scribe.ShareMeta) (scribe.Share, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Share{}, err
	}
	if err := s.disk.check(); err != nil {
		return scribe.Share{}, err
	}
	var sm scribe.ShareMeta
	if len(meta) > 0 {
		sm = meta[0]
	}
	if err := sm.Validate(); err != nil {
		return scribe.Share{}, err
	}
	now := time.Now().UTC().Round(0)
	var sh scribe.Share
	err := s.update("create share", func(tx *bbolt.Tx) error {
		if _, err := getMeta(tx, id); err != nil {
			return err
		}
		idx, err := noteBucket(tx, id, bucketNoteSh)
		if err != nil {
			return err
		}
		shares := tx.Bucket(bucketShares)
		tok := scribe.NewToken()
		for shares.Get([]byte(tok)) != nil {
			tok = scribe.NewToken()
		}
		rec := &shareRecord{Note: id, CreatedAt: now, Label: sm.Label, By: sm.By}
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode share: %w", err)
		}
		if err := shares.Put([]byte(tok), seal(v)); err != nil {
			return err
		}
		if err := idx.Put(shareIndexKey(now, tok), nil); err != nil {
			return err
		}
		sh = rec.share(tok)
		return nil
	})
	return sh, err
}

// ResolveShare returns the share for a token; ENOTFOUND once revoked.
func (s *Store) ResolveShare(ctx context.Context, tok scribe.Token) (scribe.Share, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Share{}, err
	}
	var sh scribe.Share
	err := s.view("resolve share", func(tx *bbolt.Tx) error {
		r, err := getShare(tx, tok)
		if err != nil {
			return err
		}
		sh = r.share(tok)
		return nil
	})
	return sh, err
}

// ListShares returns the note's active shares, oldest first.
func (s *Store) ListShares(ctx context.Context, id scribe.NoteID) ([]scribe.Share, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	out := []scribe.Share{}
	err := s.view("list shares", func(tx *bbolt.Tx) error {
		if _, err := getMeta(tx, id); err != nil {
			return err
		}
		idx, err := noteBucket(tx, id, bucketNoteSh)
		if err != nil {
			return err
		}
		return idx.ForEach(func(k, _ []byte) error {
			if len(k) <= 8 {
				return corrupt(id, "share index key %x", k)
			}
			tok := scribe.Token(k[8:])
			r, err := getShare(tx, tok)
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				return corrupt(id, "share %s is indexed but missing", tok)
			} else if err != nil {
				return err
			}
			out = append(out, r.share(tok))
			return nil
		})
	})
	return out, err
}

// RevokeShare deletes a token: from the moment it returns, ResolveShare
// gives ENOTFOUND. An unknown or already revoked token gives ENOTFOUND.
func (s *Store) RevokeShare(ctx context.Context, tok scribe.Token) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	return s.update("revoke share", func(tx *bbolt.Tx) error {
		r, err := getShare(tx, tok)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketShares).Delete([]byte(tok)); err != nil {
			return err
		}
		idx, err := noteBucket(tx, r.Note, bucketNoteSh)
		if err != nil {
			return err
		}
		return idx.Delete(shareIndexKey(r.CreatedAt, tok))
	})
}

// Ping reports whether the store is open and readable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	return s.view("ping", func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketNotes) == nil {
			return scribe.Errorf(scribe.EINTERNAL, "Stored data is corrupt: the notes bucket is missing.")
		}
		return nil
	})
}

// Backup writes a consistent copy of the whole database file to w while the
// store keeps serving (one read transaction), and returns the bytes written.
// The copy is a bbolt file that New and Open accept as <dir>/scribe.db.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.view("backup", func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
