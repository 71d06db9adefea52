package room

import (
	"context"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestReconnectAcrossFold: a client coming back with a revision that
// compaction folded (or the revision just before a fold) cannot be caught
// up change by change; it gets the full text, never an error or a wrong
// text. One at the fold's end gets the catch-up.
func TestReconnectAcrossFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := storetest.NewClock(time.Now().Add(-8 * 24 * time.Hour).Truncate(time.Minute))
	st := bolt.New(t.TempDir(), bolt.Options{Now: clock.Now})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	id := createNote(t, st, "")
	doc := ""
	add := func(session string, seq uint64) {
		t.Helper()
		op := storetest.EditOp(doc, storetest.Len(doc), 0, "x")
		if _, err := st.Append(ctx, id, scribe.Revision(len(doc)), []scribe.Change{storetest.ChangeOf(session, seq, op)}); err != nil {
			t.Fatal(err)
		}
		doc += "x"
	}
	for i := 1; i <= 10; i++ {
		add("typist", uint64(i))
	}
	clock.Advance(8 * 24 * time.Hour)
	add("other", 1)
	add("other", 2)
	if stats, err := st.CompactStep(ctx, clock.Now(), scribe.DefaultHistoryHotAge, 100); err != nil || stats.Folds != 1 || stats.Changes != 10 {
		t.Fatalf("CompactStep = %+v, %v; want 1..10 in one fold", stats, err)
	}
	h := startHub(t, st, Config{Timing: shortTiming})
	for _, rev := range []scribe.Revision{5, 0, 9, 1} {
		m := join(t, h, id, Info{Name: "Back", HasRev: true, Rev: rev})
		if w := m.msg(0); w.Catchup || !w.HasText || w.Text != doc || w.Rev != 12 {
			t.Errorf("a client at %d (the fold is 1..10): catchup %v, text %v %q, rev %d; want the full text at 12", rev, w.Catchup, w.HasText, w.Text, w.Rev)
		}
	}
	m := join(t, h, id, Info{Name: "Recent", HasRev: true, Rev: 10})
	if w := m.msg(0); !w.Catchup || w.HasText || m.msg(1).Type != "op" || m.msg(2).Type != "op" {
		t.Errorf("a client at the fold's end: catchup %v, text %v, then %s, %s; want the catch-up of 11 and 12", w.Catchup, w.HasText, m.msg(1).Type, m.msg(2).Type)
	}
}
