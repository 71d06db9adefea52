package export

import (
	"context"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestExportCompactedNote: a note whose old history was folded exports,
// with its editors, though a page of the log ends inside a fold.
func TestExportCompactedNote(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	st := bolt.New(t.TempDir(), bolt.Options{Now: clock.Now})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	note, err := st.CreateNote(ctx, scribe.NewNote{Title: "Old review", Text: "# Old review\n"})
	if err != nil {
		t.Fatal(err)
	}
	doc := "# Old review\n"
	for i := range 7 {
		op := storetest.EditOp(doc, storetest.Len(doc), 0, "x")
		c := scribe.Change{Op: op, Session: "carol-1", Seq: uint64(i + 1), Author: "Carol", Email: "carol@example.com"}
		if _, err := st.Append(ctx, note.ID, scribe.Revision(i), []scribe.Change{c}); err != nil {
			t.Fatal(err)
		}
		doc += "x"
	}
	clock.Advance(8 * 24 * time.Hour)
	typeAs(t, st, note.ID, "Dan", "\nlater\n")
	if st, err := st.CompactStep(ctx, clock.Now(), scribe.DefaultHistoryHotAge, 100); err != nil || st.Folds != 1 {
		t.Fatalf("CompactStep = %+v, %v; want one fold of 1..7", st, err)
	}
	defer func(n scribe.Revision) { changesPage = n }(changesPage)
	changesPage = 3 // the first page, 0..3, ends inside the fold
	e, err := New(Config{RepoPath: t.TempDir() + "/repo"}, st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Export(ctx, note.ID, scribe.ExportRequest{Author: "Bob", Email: "bob@example.com"})
	if err != nil {
		t.Fatalf("export of a compacted note: %v", err)
	}
	trailers := runGit(t, e.cfg.RepoPath, "log", "-1", "--format=%(trailers:key=Co-authored-by,valueonly)")
	if trailers != "Carol <carol@example.com>\nDan <dan@example.com>" {
		t.Errorf("trailers = %q, res %+v", trailers, res)
	}
}
