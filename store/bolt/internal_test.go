package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/store/storetest"
)

func openInternal(t *testing.T, opts Options) *Store {
	t.Helper()
	s := New(t.TempDir(), opts)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHeadsTrim checks the head cache's bounds: least recently used first,
// by note count and by total length.
func TestHeadsTrim(t *testing.T) {
	h := newHeads()
	doc := func(n int) *ot.Document {
		d, err := ot.NewDocument(strings.Repeat("x", n))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := range maxHeadNotes + 10 {
		h.put(scribe.NoteID(fmt.Sprint(i)), 1, doc(1))
	}
	h.get("0", 1) // recently used: survives
	h.trim()
	if len(h.m) != maxHeadNotes || h.units != maxHeadNotes {
		t.Fatalf("after trim: %d notes, %d units", len(h.m), h.units)
	}
	if h.m["0"] == nil || h.m["1"] != nil || h.m["11"] == nil {
		t.Errorf("trim evicted the wrong notes")
	}
	big := h.put("big", 1, doc(maxHeadUnits))
	h.trim()
	if h.m["big"] != big || len(h.m) != 1 || h.units != maxHeadUnits {
		t.Errorf("a note as big as the bound: %d notes, %d units", len(h.m), h.units)
	}
	if h.get("big", 2) != nil || h.m["big"] != nil || h.units != 0 {
		t.Errorf("a stale entry was returned or kept")
	}
}

// TestSlowSubscriber checks that a subscriber that does not read never
// delays Append: its events beyond the buffer are dropped, and a Follower
// on it still gets every revision from the log.
func TestSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, Options{SubscriberBuffer: 4})
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	doc := ""
	for i := range 50 {
		op := storetest.EditOp(doc, len(doc), 0, "x")
		if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf("s", uint64(i+1), op)}); err != nil {
			t.Fatal(err)
		}
		doc += "x"
	}
	if d := s.Dropped(); d != 46 {
		t.Errorf("dropped %d events, want 46 (50 minus a buffer of 4)", d)
	}
	if st := s.Stats(); st != (Stats{Transactions: 50, Appends: 50, Ops: 50, DroppedEvents: 46}) {
		t.Errorf("Stats = %+v after 50 serial single-op appends", st)
	}
	f := storetest.NewFollower(s, n.ID, sub, 0)
	f.PollInterval = 10 * time.Millisecond
	for want := scribe.Revision(1); want <= 50; {
		ev, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Change != nil {
			if ev.Change.Revision != want {
				t.Fatalf("follower gave revision %d, want %d", ev.Change.Revision, want)
			}
			want++
		}
	}
}

// TestLoadLongText loads a long text with many ops since its snapshot,
// which LoadNote replays in an ot.Document rather than string by string.
func TestLoadLongText(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, Options{SnapshotEvery: 1000})
	base := strings.Repeat("line of text 😀\n", 2000)
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "long", Text: base})
	if err != nil {
		t.Fatal(err)
	}
	doc := base
	var batch []scribe.Change
	for i := range 40 {
		pos := (i * 997) % (storetest.Len(doc) / 16) * 16 // line starts: never inside the emoji
		op := storetest.EditOp(doc, pos, 1, "L")
		batch = append(batch, storetest.ChangeOf("s", uint64(i+1), op))
		if doc, err = storetest.Apply(doc, op); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, n.ID, 0, batch); err != nil {
		t.Fatal(err)
	}
	d, err := s.LoadNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != doc {
		t.Errorf("loaded text differs from the replay")
	}
	if r := s.LastLoadReplayed(); r != 40 {
		t.Errorf("replayed %d ops, want 40", r)
	}
}

// TestGroupCommitAcrossNotes has 32 goroutines append to their own notes at
// once: every append commits, and appends share transactions (fsyncs).
func TestGroupCommitAcrossNotes(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, Options{})
	const writers, each = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			n, err := s.CreateNote(ctx, scribe.NewNote{Title: "t"})
			if err != nil {
				errs <- err
				return
			}
			doc := ""
			for i := range each {
				op := storetest.EditOp(doc, len(doc), 0, "x")
				if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf("s", uint64(i+1), op)}); err != nil {
					errs <- err
					return
				}
				doc += "x"
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Appends != writers*each || st.Ops != writers*each {
		t.Fatalf("Stats = %+v, want %d appends and ops", st, writers*each)
	}
	if st.Transactions >= st.Appends {
		t.Errorf("%d appends from %d goroutines took %d transactions: no group commit", st.Appends, writers, st.Transactions)
	}
	t.Logf("%d appends in %d transactions (%.1f per fsync)", st.Appends, st.Transactions, float64(st.Appends)/float64(st.Transactions))
}

// BenchmarkAppendMeta measures the CPU work attendees add to an append's
// metadata: the check of a batch's authors (addAttendees) and the meta
// record's JSON encoding, which every append does, with a note's usual
// few attendees and with the cap (docs/benchmarks.md).
func BenchmarkAppendMeta(b *testing.B) {
	batch := make([]scribe.Change, 10)
	for i := range batch {
		batch[i] = scribe.Change{Session: "sess-bench", Seq: uint64(i + 1), Author: "Ana Lima", Email: "ana@example.com"}
	}
	for _, people := range []int{0, 4, scribe.MaxAttendees} {
		m := &meta{Title: "Platform weekly sync", Template: "meeting", CreatedAt: time.Now(), UpdatedAt: time.Now(), Rev: 1234, Len: 5000}
		for i := range people {
			m.Attendees = append(m.Attendees, attendee{Key: fmt.Sprintf("p:m%015d", i), Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i)})
		}
		if people > 0 {
			m.addAttendees(batch) // Ana is one of them (or the list is full)
		}
		b.Run(fmt.Sprintf("attendees=%d", len(m.Attendees)), func(b *testing.B) {
			for b.Loop() {
				if people > 0 {
					m.addAttendees(batch)
				}
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
