package bolt

import (
	"context"
	"encoding/hex"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

// QueryNotes returns one page of the note list by walking the updated
// index backwards from q.After, reading at most scribe.MaxNoteScan notes.
// The cursor is the hex of the last index key examined.
func (s *Store) QueryNotes(ctx context.Context, q scribe.NoteQuery) (scribe.NotePage, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.NotePage{}, err
	}
	if err := q.Validate(); err != nil {
		return scribe.NotePage{}, err
	}
	var after []byte
	if q.After != "" {
		var err error
		if after, err = hex.DecodeString(string(q.After)); err != nil || len(after) != 8+len(scribe.NewNoteID()) {
			return scribe.NotePage{}, scribe.Errorf(scribe.EINVALID, "The list's cursor is not one this server made.")
		}
	}
	page := scribe.NotePage{Notes: []scribe.Note{}}
	err := s.view("query notes", func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketUpdated).Cursor()
		var k []byte
		if after == nil {
			k, _ = c.Last()
		} else if k, _ = c.Seek(after); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev() // Seek lands at or after the cursor's key
		}
		var last []byte
		for scanned := 0; k != nil; k, _ = c.Prev() {
			if len(page.Notes) == q.Limit || scanned == scribe.MaxNoteScan {
				page.Next = scribe.NoteCursor(hex.EncodeToString(last))
				return nil
			}
			scanned++
			last = k
			if len(k) <= 8 {
				return scribe.Errorf(scribe.EINTERNAL, "Stored note index is corrupt: key %x.", k)
			}
			id := scribe.NoteID(k[8:])
			m, err := getMeta(tx, id)
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				return corrupt(id, "indexed but missing")
			} else if err != nil {
				return err
			}
			if n := m.note(id); q.Match(n) {
				page.Notes = append(page.Notes, n)
			}
		}
		return nil
	})
	return page, err
}

// DeleteNote deletes the note, its log, history and shares in one
// transaction, then publishes a feed event for it.
func (s *Store) DeleteNote(ctx context.Context, id scribe.NoteID) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.update("delete note", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		shares, err := noteBucket(tx, id, bucketNoteSh)
		if err != nil {
			return err
		}
		tokens := tx.Bucket(bucketShares)
		if err := shares.ForEach(func(k, _ []byte) error {
			if len(k) <= 8 {
				return corrupt(id, "share index key %x", k)
			}
			return tokens.Delete(k[8:])
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketLogs).DeleteBucket([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUpdated).Delete(updatedKey(m.UpdatedAt, id)); err != nil {
			return err
		}
		return tx.Bucket(bucketNotes).Delete([]byte(id))
	})
	if err != nil {
		return err
	}
	s.feed.publish(scribe.NoteChange{ID: id})
	return nil
}
