package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"time"

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
		ms := newMetas(tx)
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
			m, err := ms.get(id)
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
		if err := unlist(tx, id, m.UpdatedAt); err != nil {
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

// The updated index (ListNotes, QueryNotes, and the cursors of the note
// list) holds one key per note, <UpdatedAt in unix ns><id>, with an empty
// value, so that walking it backwards lists the most recently edited
// notes first. One entry may differ, so that one person typing alone does
// not rewrite the index with every op (a delete and a put: two of the
// fourteen pages bbolt wrote per single-op append): when an append's note
// already holds the newest key, the key stays where it is, and its value
// becomes lagging ("l") to say that the note's UpdatedAt may be later than
// the key. The order stays right, as no other note has a later time: the
// next write of the index by any other note first moves a lagging newest
// entry to its note's UpdatedAt (settle). So every entry but the newest
// is at its note's UpdatedAt, and the newest is at or before it.
var lagging = []byte("l")

// relist moves note id's index entry from old, its UpdatedAt before an
// append, to now, its UpdatedAt after it (already in the note's metadata),
// or leaves it lagging when it is the newest.
func relist(tx *bbolt.Tx, id scribe.NoteID, old, now time.Time) error {
	updated := tx.Bucket(bucketUpdated)
	k, v := updated.Cursor().Last()
	own := len(k) > 8 && string(k[8:]) == string(id)
	if own && int64(binary.BigEndian.Uint64(k)) <= now.UnixNano() {
		if bytes.Equal(v, lagging) {
			return nil // nothing to write
		}
		return updated.Put(bytes.Clone(k), lagging)
	}
	if own {
		if err := updated.Delete(bytes.Clone(k)); err != nil {
			return err
		}
	} else {
		if err := settle(tx, k, v); err != nil {
			return err
		}
		if err := updated.Delete(updatedKey(old, id)); err != nil {
			return err
		}
	}
	return updated.Put(updatedKey(now, id), nil)
}

// list adds a new note's entry to the index.
func list(tx *bbolt.Tx, id scribe.NoteID, t time.Time) error {
	updated := tx.Bucket(bucketUpdated)
	k, v := updated.Cursor().Last()
	if err := settle(tx, k, v); err != nil {
		return err
	}
	return updated.Put(updatedKey(t, id), nil)
}

// unlist removes a note's entry, updated being its UpdatedAt.
func unlist(tx *bbolt.Tx, id scribe.NoteID, updated time.Time) error {
	b := tx.Bucket(bucketUpdated)
	if k, v := b.Cursor().Last(); len(k) > 8 && string(k[8:]) == string(id) && bytes.Equal(v, lagging) {
		return b.Delete(bytes.Clone(k))
	}
	return b.Delete(updatedKey(updated, id))
}

// settle moves the newest entry, k with value v, to its note's UpdatedAt
// if it is lagging.
func settle(tx *bbolt.Tx, k, v []byte) error {
	if !bytes.Equal(v, lagging) {
		return nil
	}
	if len(k) <= 8 {
		return scribe.Errorf(scribe.EINTERNAL, "Stored note index is corrupt: key %x.", k)
	}
	id := scribe.NoteID(k[8:])
	m, err := getMeta(tx, id)
	if err != nil {
		return err
	}
	updated := tx.Bucket(bucketUpdated)
	if err := updated.Delete(bytes.Clone(k)); err != nil {
		return err
	}
	return updated.Put(updatedKey(m.UpdatedAt, id), nil)
}
