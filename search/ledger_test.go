package search_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/store/storetest"
)

// ledgerNotes creates three meetings with action items and decisions, a
// day apart, and returns their ids in order.
func ledgerNotes(t *testing.T, s scribe.Store) []scribe.NoteID {
	t.Helper()
	day := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	texts := []string{
		"# Monday sync\n\n## Decisions\n\n- Ship on Friday\n\n## Action items\n\n- [ ] @ana fix the build due 2026-11-05\n- [x] @bob book the room\n- [ ] unowned chore\n",
		"# Tuesday sync\n\n- [ ] @Ana write the release notes by 2026-12-20\n- [ ] @bob order pizza 📅 2026-11-01\n\nDecisions: Keep the café open\n",
		"# Wednesday sync\n\n- [ ] @ana call the vendor (carried over to [2026-11-05](/n/x))\n",
	}
	var ids []scribe.NoteID
	for i, text := range texts {
		n, err := s.CreateNote(context.Background(), scribe.NewNote{Title: "", Text: text, CreatedAt: day.AddDate(0, 0, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	return ids
}

func startLedger(t *testing.T, s feedStore, dir string) (*search.Indexer, *search.Ledger) {
	t.Helper()
	b, err := search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	l := search.NewLedger()
	x := search.NewIndexer(s, s, b, b.Fresh(), search.IndexerOptions{Ledger: l, Debounce: 20 * time.Millisecond})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		x.Close()
		b.Close()
	})
	return x, l
}

// replaceIn replaces the first old in the note's text d with new, as one
// change, and returns its revision.
func replaceIn(t *testing.T, s scribe.Store, id scribe.NoteID, d scribe.Document, old, new string) scribe.Revision {
	t.Helper()
	at := strings.Index(d.Text, old)
	if at < 0 {
		t.Fatalf("%q is not in the note", old)
	}
	op := storetest.EditOp(d.Text, storetest.Len(d.Text[:at]), storetest.Len(old), new)
	revs, err := s.Append(context.Background(), id, d.Revision, []scribe.Change{storetest.ChangeOf("ledger-test", uint64(d.Revision)+1, op)})
	if err != nil {
		t.Fatal(err)
	}
	return revs[0]
}

type itemKey struct {
	Note    scribe.NoteID
	Line    int
	Owner   string
	Overdue bool
}

func keys(p search.ActionPage) []itemKey {
	var out []itemKey
	for _, it := range p.Items {
		out = append(out, itemKey{it.Note, it.Line, it.Owner, it.Overdue})
	}
	return out
}

// TestLedgerActions: the items of three notes, grouped by owner (no owner
// last), overdue first, filtered by owner, state and due date; a carried
// item is not open; the source line is the note's.
func TestLedgerActions(t *testing.T) {
	t.Parallel()
	s := openBolt(t, t.TempDir())
	ids := ledgerNotes(t, s)
	x, l := startLedger(t, s, "")
	for _, id := range ids {
		waitFor(t, x, id, 0)
	}
	all, err := l.Actions(search.ActionQuery{Today: "2026-11-10"})
	if err != nil {
		t.Fatal(err)
	}
	want := []itemKey{
		{ids[0], 9, "ana", true},  // overdue
		{ids[1], 3, "Ana", false}, // due later
		{ids[2], 3, "ana", false}, // carried: never overdue, no due date
		{ids[1], 4, "bob", true},
		{ids[0], 10, "bob", false}, // done
		{ids[0], 11, "", false},
	}
	if got := keys(all); !reflect.DeepEqual(got, want) {
		t.Fatalf("all items:\n got  %v\n want %v", got, want)
	}
	if all.Items[0].Source != "- [ ] @ana fix the build due 2026-11-05" || all.Items[0].Text != "@ana fix the build" || all.Items[0].Title != "Monday sync" {
		t.Errorf("first item: %+v", all.Items[0])
	}
	if c := all.Items[2]; !c.Carried || c.Text != "@ana call the vendor" {
		t.Errorf("carried item: %+v", c)
	}

	open, _ := l.Actions(search.ActionQuery{Owners: []string{"ANA"}, State: search.StateOpen, Today: "2026-11-10"})
	if got, want := keys(open), []itemKey{{ids[0], 9, "ana", true}, {ids[1], 3, "Ana", false}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ana's open items: %v, want %v", got, want)
	}
	done, _ := l.Actions(search.ActionQuery{State: search.StateDone})
	if got, want := keys(done), []itemKey{{ids[0], 10, "bob", false}}; !reflect.DeepEqual(got, want) {
		t.Errorf("done items: %v, want %v", got, want)
	}
	due, _ := l.Actions(search.ActionQuery{DueBefore: "2026-11-05"})
	if got, want := keys(due), []itemKey{{ids[1], 4, "bob", false}}; !reflect.DeepEqual(got, want) {
		t.Errorf("due before 2026-11-05: %v, want %v", got, want)
	}
	paged, _ := l.Actions(search.ActionQuery{Offset: 4, Limit: 5})
	if paged.Total != 6 || len(paged.Items) != 2 {
		t.Errorf("page from 4: total %d, %d items", paged.Total, len(paged.Items))
	}
	if _, err := l.Actions(search.ActionQuery{Offset: search.MaxOffset + 1}); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("offset past the bound: %v", err)
	}

	// Ticking the first item in the note reaches the ledger from the feed.
	d, _ := s.LoadNote(context.Background(), ids[0])
	rev := replaceIn(t, s, ids[0], d, "- [ ] @ana fix", "- [x] @ana fix")
	waitFor(t, x, ids[0], rev)
	open, _ = l.Actions(search.ActionQuery{Owners: []string{"ana"}, State: search.StateOpen})
	if len(open.Items) != 1 || open.Items[0].Note != ids[1] {
		t.Errorf("after ticking, ana's open items: %v", keys(open))
	}
}

// TestLedgerDecisions: decisions across notes, newest meeting first,
// matched by words ignoring case and accents, bounded by date.
func TestLedgerDecisions(t *testing.T) {
	t.Parallel()
	s := openBolt(t, t.TempDir())
	ids := ledgerNotes(t, s)
	x, l := startLedger(t, s, "")
	for _, id := range ids {
		waitFor(t, x, id, 0)
	}
	all, _ := l.Decisions(search.DecisionQuery{})
	if all.Total != 2 || all.Decisions[0].Text != "Keep the café open" || all.Decisions[0].Note != ids[1] || all.Decisions[1].Text != "Ship on Friday" {
		t.Fatalf("all decisions: %+v", all)
	}
	cafe, _ := l.Decisions(search.DecisionQuery{Text: "CAFE open"})
	if cafe.Total != 1 || cafe.Decisions[0].Note != ids[1] {
		t.Errorf("café: %+v", cafe)
	}
	byTitle, _ := l.Decisions(search.DecisionQuery{Text: "monday"})
	if byTitle.Total != 1 || byTitle.Decisions[0].Text != "Ship on Friday" {
		t.Errorf("by title: %+v", byTitle)
	}
	from := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	dated, _ := l.Decisions(search.DecisionQuery{From: from, To: from.AddDate(0, 0, 1)})
	if dated.Total != 1 || dated.Decisions[0].Note != ids[1] {
		t.Errorf("on 2026-11-03: %+v", dated)
	}
}

// TestLedgerLoadsFromTheIndex: a restarted node has the ledger of notes
// it does not re-index (their revision is unchanged), from the index.
func TestLedgerLoadsFromTheIndex(t *testing.T) {
	t.Parallel()
	s := openBolt(t, t.TempDir())
	ids := ledgerNotes(t, s)
	dir := t.TempDir() + "/index"
	b, err := search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := search.NewIndexer(s, s, b, b.Fresh(), search.IndexerOptions{Ledger: search.NewLedger(), Debounce: 20 * time.Millisecond})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		waitFor(t, x, id, 0)
	}
	x.Close()
	b.Close()

	b, err = search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Fresh() {
		t.Fatal("the index was rebuilt")
	}
	l := search.NewLedger()
	x = search.NewIndexer(s, s, b, false, search.IndexerOptions{Ledger: l})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	// Open loaded it: no wait.
	all, _ := l.Actions(search.ActionQuery{})
	if all.Total != 6 {
		t.Errorf("after a restart the ledger has %d items, want 6", all.Total)
	}
	dec, _ := l.Decisions(search.DecisionQuery{})
	if dec.Total != 2 || dec.Decisions[0].Title != "Tuesday sync" || dec.Decisions[0].Date.IsZero() {
		t.Errorf("after a restart: %+v", dec)
	}
}
