package bolt

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// BenchmarkAppendOne is one writer alone (issue 16): single-op Appends to
// one note of a store holding 200 others, each its own transaction and
// fsync, as a lone typist's edits reach the store. Besides the time it
// reports what the wall clock hides behind the fsync: the pages bbolt
// writes per append ("pages/op", counted, so the same in every run), and
// the process's CPU time per append ("cpu-us/op", user + system, from
// getrusage).
//
//	go test -run '^$' -bench AppendOne -benchtime 2000x -count 3 ./store/bolt/
func BenchmarkAppendOne(b *testing.B) {
	ctx := context.Background()
	s := New(b.TempDir(), Options{})
	if err := s.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		if _, err := s.CreateNote(ctx, scribe.NewNote{Title: fmt.Sprintf("Other %d", i), Text: "x"}); err != nil {
			b.Fatal(err)
		}
	}
	note, err := s.CreateNote(ctx, scribe.NewNote{Title: "Weekly sync", Text: "Agenda\n"})
	if err != nil {
		b.Fatal(err)
	}
	doc, rev := "Agenda\n", note.Revision
	seq := uint64(0)
	appendOne := func() {
		seq++
		op := storetest.EditOp(doc, len(doc), 0, "k")
		doc += "k"
		c := scribe.Change{Op: op, Session: "s_typist01234567", Seq: seq, Author: "Ada Lovelace", Email: "ada@example.com"}
		revs, err := s.Append(ctx, note.ID, rev, []scribe.Change{c})
		if err != nil {
			b.Fatal(err)
		}
		rev = revs[0]
	}
	for range 150 { // past the first snapshot, the head cached
		appendOne()
	}
	pages := writes(s)
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		appendOne()
	}
	b.StopTimer()
	b.ReportMetric(float64(writes(s)-pages)/float64(b.N), "pages/op")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writes is how many page writes bbolt has made since the store opened.
func writes(s *Store) int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}

// TestLaggingIndex checks the note list's order while the newest note's
// index entry lags its UpdatedAt (list.go): appends to the newest note
// leave its entry alone, and every other write of the index (another
// note's append, a creation with an earlier time, a deletion) still
// leaves one entry per note, in the order of their UpdatedAt.
func TestLaggingIndex(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := storetest.NewClock(t0.Add(time.Minute))
	s := openInternal(t, Options{Now: clock.Now})
	create := func(title string, at time.Time) scribe.NoteID {
		n, err := s.CreateNote(ctx, scribe.NewNote{Title: title, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	docs := map[scribe.NoteID]string{}
	edit := func(id scribe.NoteID) {
		clock.Advance(time.Minute)
		doc := docs[id]
		c := storetest.ChangeOf("s", uint64(len(doc)+1), storetest.EditOp(doc, len(doc), 0, "x"))
		if _, err := s.Append(ctx, id, scribe.Revision(len(doc)), []scribe.Change{c}); err != nil {
			t.Fatal(err)
		}
		docs[id] += "x"
	}
	lagging := func() int {
		n := 0
		if err := s.db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketUpdated).ForEach(func(_, v []byte) error {
				if string(v) == "l" {
					n++
				}
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := func(step string, ids ...scribe.NoteID) {
		t.Helper()
		ns, err := s.ListNotes(ctx, 10)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var got []scribe.NoteID
		for i, n := range ns {
			got = append(got, n.ID)
			if i > 0 && n.UpdatedAt.After(ns[i-1].UpdatedAt) {
				t.Errorf("%s: %s (updated %v) listed after %s (updated %v)", step, n.ID, n.UpdatedAt, ns[i-1].ID, ns[i-1].UpdatedAt)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s: listed %v, want %v", step, got, ids)
		}
		var keys int
		if err := s.db.View(func(tx *bbolt.Tx) error {
			keys = tx.Bucket(bucketUpdated).Stats().KeyN
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if keys != len(ids) {
			t.Errorf("%s: %d index entries for %d notes", step, keys, len(ids))
		}
	}

	a := create("A", t0)
	b := create("B", t0.Add(time.Second))
	edit(a) // moves A past B
	edit(a) // A is the newest: its entry stays, lagging
	edit(a)
	if n := lagging(); n != 1 {
		t.Errorf("%d lagging entries after three edits of the newest note, want 1", n)
	}
	want("A typed alone", a, b)

	// A note created at a time between A's entry and A's UpdatedAt.
	c := create("C", clock.Now().Add(-90*time.Second))
	want("C created between", a, c, b)
	if n := lagging(); n != 0 {
		t.Errorf("%d lagging entries after a creation, want 0", n)
	}

	edit(a)
	edit(a) // lagging again
	edit(b) // another note's append settles A's entry first
	want("B edited", b, a, c)
	edit(b)
	edit(b)
	if err := s.DeleteNote(ctx, b); err != nil { // B's entry lags
		t.Fatal(err)
	}
	want("B deleted", a, c)
	edit(c)
	want("C edited", c, a)
}
