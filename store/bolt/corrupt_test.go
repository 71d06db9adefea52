package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestCorruptAnyValue damages one stored value at a time (each value in the
// file, replaced by random bytes, truncated, or emptied) and calls every
// method on the damaged store: nothing panics, and every error is a
// scribe.Error or the store's own wrapping of one, never a raw decode error
// dressed as success.
func TestCorruptAnyValue(t *testing.T) {
	ctx := context.Background()
	tmpl := t.TempDir()
	s := bolt.New(tmpl, bolt.Options{SnapshotEvery: 5})
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "t", Text: "hello 😀"})
	if err != nil {
		t.Fatal(err)
	}
	doc := "hello 😀"
	for i := range 12 {
		op := storetest.EditOp(doc, 0, 0, "ab")
		if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf(fmt.Sprint("s", i%3), uint64(i+1), op)}); err != nil {
			t.Fatal(err)
		}
		doc = "ab" + doc
	}
	sh, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(tmpl, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}

	// Every value's path: bucket names, then the key.
	var paths [][][]byte
	db, err := bbolt.Open(filepath.Join(tmpl, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix [][]byte, b *bbolt.Bucket) error
	walk = func(prefix [][]byte, b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			p := append(append([][]byte{}, prefix...), bytes.Clone(k))
			if v == nil {
				return walk(p, b.Bucket(k))
			}
			paths = append(paths, p)
			return nil
		})
	}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk([][]byte{bytes.Clone(name)}, b) })
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 30 {
		t.Fatalf("only %d values to damage", len(paths))
	}

	rng := rand.New(rand.NewPCG(1, 2))
	damages := []func(v []byte) []byte{
		func(v []byte) []byte {
			b := make([]byte, 1+rng.IntN(40))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		},
		func(v []byte) []byte { return v[:len(v)/2] },
		func([]byte) []byte { return []byte{} },
		func(v []byte) []byte { b := bytes.Clone(v); b[rng.IntN(len(b))] ^= 0x5a; return b },
	}
	for pi, p := range paths {
		for di, damage := range damages {
			name := fmt.Sprintf("%q/%d", p, di)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, bolt.FileName), file, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(p[0])
				for _, name := range p[1 : len(p)-1] {
					b = b.Bucket(name)
				}
				v := b.Get(p[len(p)-1])
				if len(v) == 0 {
					return b.Put(p[len(p)-1], []byte("x"))
				}
				return b.Put(p[len(p)-1], damage(v))
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("value %d %s: panic: %v", pi, name, r)
					}
				}()
				exercise(t, dir, n.ID, sh.Token, doc, name)
			}()
		}
	}
}

// exercise calls every method on the store in dir and checks each result
// is either right or an error with a code.
func exercise(t *testing.T, dir string, id scribe.NoteID, tok scribe.Token, doc, name string) {
	ctx := context.Background()
	s := bolt.New(dir, bolt.Options{SnapshotEvery: 5})
	if err := s.Open(ctx); err != nil {
		return // a damaged format stamp is refused at open: fine
	}
	defer s.Close()
	check := func(what string, err error) {
		if err == nil {
			return
		}
		switch scribe.ErrorCode(err) {
		case scribe.EINTERNAL, scribe.ENOTFOUND, scribe.EINVALID, scribe.ECONFLICT:
		default:
			t.Errorf("%s: %s: unexpected error %v", name, what, err)
		}
	}
	d, err := s.LoadNote(ctx, id)
	check("LoadNote", err)
	if err == nil && d.Revision == 12 && d.Text != doc {
		t.Errorf("%s: LoadNote returned wrong text %q without an error", name, d.Text)
	}
	_, err = s.GetNote(ctx, id)
	check("GetNote", err)
	_, err = s.ListNotes(ctx, 10)
	check("ListNotes", err)
	_, err = s.Changes(ctx, id, 0, 100)
	check("Changes", err)
	_, _, err = s.LastSeq(ctx, id, "s1")
	check("LastSeq", err)
	_, err = s.ResolveShare(ctx, tok)
	check("ResolveShare", err)
	_, err = s.ListShares(ctx, id)
	check("ListShares", err)
	_, err = s.Append(ctx, id, 12, []scribe.Change{storetest.ChangeOf("z", 1, storetest.EditOp(doc, 0, 0, "!"))})
	check("Append", err)
	_, err = s.CreateShare(ctx, id)
	check("CreateShare", err)
	check("RevokeShare", s.RevokeShare(ctx, tok))
	sub, err := s.Subscribe(ctx, id)
	check("Subscribe", err)
	if sub != nil {
		sub.Close()
	}
	_, err = s.CreateNote(ctx, scribe.NewNote{Title: "new"})
	check("CreateNote", err)
}
