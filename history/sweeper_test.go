package history_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestSweeperStep: a step folds the cold history, at most its budget, and
// its metrics say what it folded, freed and left behind.
func TestSweeperStep(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	st := bolt.New(t.TempDir(), bolt.Options{Now: clock.Now})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "t", Text: ""})
	if err != nil {
		t.Fatal(err)
	}
	doc := ""
	for i := range 30 {
		op := storetest.EditOp(doc, len(doc), 0, "z")
		if _, err := st.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{storetest.ChangeOf("s", uint64(i+1), op)}); err != nil {
			t.Fatal(err)
		}
		doc += "z"
	}
	sw, err := history.NewSweeper(history.SweeperConfig{Compactor: st, HotAge: time.Hour, Budget: 20})
	if err != nil {
		t.Fatal(err)
	}
	later := clock.Now().Add(2 * time.Hour)
	first, err := sw.Step(ctx, later)
	if err != nil || first.Changes != 20 || first.Behind != 1 {
		t.Fatalf("first step = %+v, %v; want 20 changes folded and the note behind", first, err)
	}
	if got := testutil.ToFloat64(sw.Collectors()[2]); got != 1 {
		t.Errorf("notes behind after the first step = %v, want 1", got)
	}
	second, err := sw.Step(ctx, later)
	if err != nil || second.Changes != 10 || second.Behind != 0 {
		t.Fatalf("second step = %+v, %v; want the last 10", second, err)
	}
	if folded := testutil.ToFloat64(sw.Collectors()[0]); folded != 30 {
		t.Errorf("scribe_history_folded_changes_total = %v, want 30", folded)
	}
	if freed := testutil.ToFloat64(sw.Collectors()[1]); freed != float64(first.Bytes+second.Bytes) || freed <= 0 {
		t.Errorf("scribe_history_freed_bytes_total = %v, want %d", freed, first.Bytes+second.Bytes)
	}
	if behind := testutil.ToFloat64(sw.Collectors()[2]); behind != 0 {
		t.Errorf("notes behind after catching up = %v", behind)
	}
	if _, err := history.NewSweeper(history.SweeperConfig{Compactor: st}); err == nil || !strings.Contains(err.Error(), "hot age") {
		t.Errorf("a sweeper without a hot age: %v", err)
	}
}
