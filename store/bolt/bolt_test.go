package bolt_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

func open(tb testing.TB, dir string) *bolt.Store {
	tb.Helper()
	s := bolt.New(dir, bolt.Options{})
	if err := s.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newStore(tb testing.TB) scribe.Store { return open(tb, tb.TempDir()) }

func TestStore(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkStore(b *testing.B) { storetest.Benchmark(b, newStore) }

// TestReopen checks that what Append returned is still there after the file
// is closed and opened again, snapshot and log alike.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "durable", Text: "a"})
	if err != nil {
		t.Fatal(err)
	}
	doc := "a"
	for i := range 250 {
		op := storetest.EditOp(doc, storetest.Len(doc), 0, "b")
		if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf("s", uint64(i+1), op)}); err != nil {
			t.Fatal(err)
		}
		doc += "b"
	}
	sh, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetNote(ctx, n.ID); scribe.ErrorCode(err) != scribe.EUNAVAILABLE {
		t.Errorf("GetNote on a closed store: %v, want EUNAVAILABLE", err)
	}
	s2 := open(t, dir)
	d, err := s2.LoadNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != doc || d.Revision != 250 || d.Title != "durable" {
		t.Errorf("after reopen: %q at %d", d.Text, d.Revision)
	}
	if r := s2.LastLoadReplayed(); r != 50 {
		t.Errorf("load replayed %d ops, want 50 (snapshot at 200)", r)
	}
	if got, err := s2.ResolveShare(ctx, sh.Token); err != nil || got.NoteID != n.ID {
		t.Errorf("share after reopen: %+v, %v", got, err)
	}
	if seq, rev, err := s2.LastSeq(ctx, n.ID, "s"); seq != 250 || rev != 250 || err != nil {
		t.Errorf("LastSeq after reopen: %d, %d, %v", seq, rev, err)
	}
}

// TestSecondOpen checks that a data directory in use gives a clear error.
func TestSecondOpen(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	s := bolt.New(dir, bolt.Options{OpenTimeout: 100 * time.Millisecond})
	err := s.Open(context.Background())
	if err == nil {
		s.Close()
		t.Fatal("a second Open of the same data directory succeeded")
	}
	if !strings.Contains(err.Error(), "in use by another scribe process") {
		t.Errorf("second Open: %v", err)
	}
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := open(t, dir)
	if _, err := os.Stat(filepath.Join(dir, bolt.FileName)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenGarbageFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, bolt.FileName), []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := bolt.New(dir, bolt.Options{})
	if err := s.Open(context.Background()); err == nil {
		s.Close()
		t.Fatal("Open of a garbage file succeeded")
	}
}

// TestCorrupt writes garbage into stored values and checks every read gives
// EINTERNAL, not a panic and not a wrong answer.
func TestCorrupt(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (string, scribe.NoteID, scribe.Token) {
		dir := t.TempDir()
		s := bolt.New(dir, bolt.Options{})
		if err := s.Open(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := s.CreateNote(ctx, scribe.NewNote{Title: "t", Text: "abc"})
		if err != nil {
			t.Fatal(err)
		}
		doc := "abc"
		for i := range 3 {
			op := storetest.EditOp(doc, 0, 0, "x")
			if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf("s", uint64(i+1), op)}); err != nil {
				t.Fatal(err)
			}
			doc = "x" + doc
		}
		sh, err := s.CreateShare(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, n.ID, sh.Token
	}
	rev := func(r uint64) []byte { return binary.BigEndian.AppendUint64(nil, r) }
	cases := []struct {
		name   string
		bucket []string
		key    func(id scribe.NoteID, tok scribe.Token) []byte
		value  []byte // nil deletes
		check  func(s *bolt.Store, id scribe.NoteID, tok scribe.Token) []error
	}{
		{"metadata not JSON", []string{"notes"}, func(id scribe.NoteID, _ scribe.Token) []byte { return []byte(id) }, bolt.Seal([]byte("{garbage")),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				_, e2 := s.GetNote(ctx, id)
				_, e3 := s.ListNotes(ctx, 10)
				_, e4 := s.Append(ctx, id, 3, []scribe.Change{storetest.ChangeOf("t", 1, []byte(`[6,"y"]`))})
				return []error{e1, e2, e3, e4}
			}},
		{"metadata with impossible numbers", []string{"notes"}, func(id scribe.NoteID, _ scribe.Token) []byte { return []byte(id) }, bolt.Seal([]byte(`{"rev":2,"snapRev":5,"len":-1}`)),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				_, e2 := s.GetNote(ctx, id)
				return []error{e1, e2}
			}},
		{"change not JSON", []string{"logs", "", "ops"}, func(scribe.NoteID, scribe.Token) []byte { return rev(2) }, []byte("\x00\xff"),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				_, e2 := s.Changes(ctx, id, 0, 3)
				return []error{e1, e2}
			}},
		{"op not an operation", []string{"logs", "", "ops"}, func(scribe.NoteID, scribe.Token) []byte { return rev(2) }, bolt.Seal([]byte(`{"rev":2,"op":{"x":1},"session":"s","seq":2}`)),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				return []error{e1}
			}},
		{"op does not fit", []string{"logs", "", "ops"}, func(scribe.NoteID, scribe.Token) []byte { return rev(2) }, bolt.Seal([]byte(`{"rev":2,"op":[100,"x"],"session":"s","seq":2}`)),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				return []error{e1}
			}},
		{"change missing", []string{"logs", "", "ops"}, func(scribe.NoteID, scribe.Token) []byte { return rev(2) }, nil,
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				_, e2 := s.Changes(ctx, id, 0, 3)
				return []error{e1, e2}
			}},
		{"change with the wrong revision", []string{"logs", "", "ops"}, func(scribe.NoteID, scribe.Token) []byte { return rev(2) }, bolt.Seal([]byte(`{"rev":7,"op":[4,"x"],"session":"s","seq":2}`)),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.Changes(ctx, id, 0, 3)
				return []error{e1}
			}},
		{"snapshot missing", []string{"logs", "", "snap"}, func(scribe.NoteID, scribe.Token) []byte { return rev(0) }, nil,
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				return []error{e1}
			}},
		{"snapshot not UTF-8", []string{"logs", "", "snap"}, func(scribe.NoteID, scribe.Token) []byte { return rev(0) }, bolt.Seal([]byte("a\xffc")),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, e1 := s.LoadNote(ctx, id)
				return []error{e1}
			}},
		{"seq index entry", []string{"logs", "", "seqs"}, func(scribe.NoteID, scribe.Token) []byte { return append([]byte{1, 's'}, rev(3)...) }, bolt.Seal([]byte("xyz")),
			func(s *bolt.Store, id scribe.NoteID, _ scribe.Token) []error {
				_, _, e1 := s.LastSeq(ctx, id, "s")
				_, e2 := s.Append(ctx, id, 3, []scribe.Change{storetest.ChangeOf("s", 3, []byte(`[6,"y"]`))})
				return []error{e1, e2}
			}},
		{"share record", []string{"shares"}, func(_ scribe.NoteID, tok scribe.Token) []byte { return []byte(tok) }, bolt.Seal([]byte(`[1,2]`)),
			func(s *bolt.Store, id scribe.NoteID, tok scribe.Token) []error {
				_, e1 := s.ResolveShare(ctx, tok)
				_, e2 := s.ListShares(ctx, id)
				e3 := s.RevokeShare(ctx, tok)
				return []error{e1, e2, e3}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, id, tok := setup(t)
			db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte(c.bucket[0]))
				for _, name := range c.bucket[1:] {
					if name == "" {
						name = string(id)
					}
					b = b.Bucket([]byte(name))
				}
				k := c.key(id, tok)
				if c.value == nil {
					return b.Delete(k)
				}
				return b.Put(k, c.value)
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			s := open(t, dir)
			for i, err := range c.check(s, id, tok) {
				if scribe.ErrorCode(err) != scribe.EINTERNAL {
					t.Errorf("call %d: %v, want EINTERNAL", i, err)
				} else if !strings.Contains(scribe.ErrorMessage(err), "corrupt") {
					t.Errorf("call %d: message %q does not say the data is corrupt", i, scribe.ErrorMessage(err))
				}
			}
			if err := s.Ping(ctx); err != nil {
				t.Errorf("Ping with one corrupt note: %v", err)
			}
		})
	}
}

// TestBackup copies a store while it serves and opens the copy.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "backed up", Text: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, n.ID, 0, []scribe.Change{storetest.ChangeOf("s", 1, storetest.EditOp("abc", 3, 0, "d"))}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	written, err := s.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || written == 0 {
		t.Fatalf("Backup wrote %d bytes: %v", written, err)
	}
	// The original keeps working; the copy has the note as it was.
	if _, err := s.Append(ctx, n.ID, 1, []scribe.Change{storetest.ChangeOf("s", 2, storetest.EditOp("abcd", 4, 0, "e"))}); err != nil {
		t.Fatal(err)
	}
	d, err := open(t, dir).LoadNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != "abcd" || d.Revision != 1 || d.Title != "backed up" {
		t.Errorf("backup holds %q at %d", d.Text, d.Revision)
	}
}

// TestNodes runs the multi-node guarantees with every "node" being the one
// store: bolt is single-process, so its nodes are goroutines sharing it.
func TestNodes(t *testing.T) {
	storetest.RunNodes(t, func(tb testing.TB, n int) []scribe.Store {
		s := newStore(tb)
		nodes := make([]scribe.Store, n)
		for i := range nodes {
			nodes[i] = s
		}
		return nodes
	})
}

// TestCreateNoteTimeRange checks that a creation time the time index cannot
// order (before 1970, after 2200) is refused rather than misfiled.
func TestCreateNoteTimeRange(t *testing.T) {
	s := open(t, t.TempDir())
	for _, when := range []time.Time{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := s.CreateNote(context.Background(), scribe.NewNote{Title: "t", CreatedAt: when})
		if scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("CreatedAt %v: %v, want EINVALID", when, err)
		}
	}
	if ns, _ := s.ListNotes(context.Background(), 10); len(ns) != 0 {
		t.Errorf("refused notes were listed: %+v", ns)
	}
}

// TestFormatVersion checks that a file of another layout version is refused
// with a clear error, not misread.
func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if v := string(tx.Bucket([]byte("scribe")).Get([]byte("format"))); v != "4" {
			t.Errorf("a new file records format %q, want 4", v)
		}
		return tx.Bucket([]byte("scribe")).Put([]byte("format"), []byte("5"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s2 := bolt.New(dir, bolt.Options{})
	err = s2.Open(context.Background())
	if err == nil {
		s2.Close()
		t.Fatal("a format-5 file opened")
	}
	if !strings.Contains(err.Error(), "newer Scribe") {
		t.Errorf("error %q does not say why", err)
	}

	// A file of format 2 is one of format 4 without folds or lagging index
	// entries: it opens and is restamped, so that a Scribe too old to read
	// them refuses it.
	db, err = bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("scribe")).Put([]byte("format"), []byte("2"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := open(t, dir).Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if v := string(tx.Bucket([]byte("scribe")).Get([]byte("format"))); v != "4" {
			t.Errorf("a format-2 file opened is stamped %q, want 4", v)
		}
		return nil
	})
	db.Close()

	// A file of format 1 had no stamp but notes: refused, not stamped.
	old := filepath.Join(t.TempDir(), bolt.FileName)
	db, err = bbolt.Open(old, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("notes"))
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s3 := bolt.New(filepath.Dir(old), bolt.Options{})
	if err := s3.Open(context.Background()); err == nil {
		s3.Close()
		t.Fatal("an unstamped file with notes opened")
	} else if !strings.Contains(err.Error(), "format 1") {
		t.Errorf("error %q does not name format 1", err)
	}
}

// TestHistoryBudget: storetest.HistoryBudget with a 20 KB budget.
func TestHistoryBudget(t *testing.T) {
	s := bolt.New(t.TempDir(), bolt.Options{MaxHistoryBytes: 20_000})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.HistoryBudget(t, s, 20_000)
}

// TestDiskNearlyFull: below MinFreeBytes (the free-space function
// injected), appends, note creations and links are refused with
// EUNAVAILABLE saying the disk is nearly full, and nothing is written;
// reads go on; with space again, writes are accepted within the second
// the reading is cached.
func TestDiskNearlyFull(t *testing.T) {
	ctx := context.Background()
	var free atomic.Uint64
	free.Store(1 << 30)
	s := bolt.New(t.TempDir(), bolt.Options{MinFreeBytes: 100 << 20, FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "T", Text: "a"})
	if err != nil {
		t.Fatal(err)
	}
	free.Store(10 << 20)
	time.Sleep(1100 * time.Millisecond) // the reading is cached for a second
	_, err = s.Append(ctx, n.ID, 0, []scribe.Change{storetest.ChangeOf("disk-001", 1, storetest.EditOp("a", 1, 0, "b"))})
	if scribe.ErrorCode(err) != scribe.EUNAVAILABLE || !strings.Contains(scribe.ErrorMessage(err), "disk is nearly full") {
		t.Fatalf("append with 10 MiB free of a 100 MiB minimum: %v", err)
	}
	if _, err := s.CreateNote(ctx, scribe.NewNote{Title: "U"}); scribe.ErrorCode(err) != scribe.EUNAVAILABLE {
		t.Fatalf("create with the disk nearly full: %v", err)
	}
	if _, err := s.CreateShare(ctx, n.ID); scribe.ErrorCode(err) != scribe.EUNAVAILABLE {
		t.Fatalf("share with the disk nearly full: %v", err)
	}
	if d, err := s.LoadNote(ctx, n.ID); err != nil || d.Text != "a" || d.Revision != 0 {
		t.Fatalf("load with the disk nearly full: %+v %v", d, err)
	}
	if notes, _ := s.ListNotes(ctx, 10); len(notes) != 1 {
		t.Fatalf("%d notes, want 1: a refused creation wrote", len(notes))
	}
	free.Store(1 << 30)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Append(ctx, n.ID, 0, []scribe.Change{storetest.ChangeOf("disk-001", 1, storetest.EditOp("a", 1, 0, "b"))})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("append with space again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCompaction: storetest.RunCompaction, the clock injected.
func TestCompaction(t *testing.T) {
	storetest.RunCompaction(t, func(tb testing.TB, clock func() time.Time) scribe.Store {
		s := bolt.New(tb.TempDir(), bolt.Options{Now: clock})
		if err := s.Open(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkQueryNotes10k measures the note list over 10,000 notes
// (docs/benchmarks.md).
func BenchmarkQueryNotes10k(b *testing.B) {
	storetest.BenchmarkQueryNotes(b, newStore)
}
