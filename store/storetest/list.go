package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// listNotes is how many notes testQueryNotes pages through: more than one
// page of the largest size, and than the 50 the home page once stopped at.
const listNotes = 120

// queryAll pages through the list with q, checking each page's bounds,
// and returns every note in order and how many pages it took.
func queryAll(t *testing.T, s scribe.Store, q scribe.NoteQuery) ([]scribe.Note, int) {
	t.Helper()
	var all []scribe.Note
	pages := 0
	for {
		page, err := s.QueryNotes(context.Background(), q)
		if err != nil {
			t.Fatalf("QueryNotes(%+v): %v", q, err)
		}
		pages++
		if len(page.Notes) > q.Limit {
			t.Fatalf("a page of limit %d holds %d notes", q.Limit, len(page.Notes))
		}
		all = append(all, page.Notes...)
		if page.Next == "" {
			return all, pages
		}
		if pages > listNotes+1 {
			t.Fatal("the list does not end")
		}
		q.After = page.Next
	}
}

// testQueryNotes: paging reaches the very first note, newest edit first,
// each note once, also when a note is edited between pages; filters by
// template, series and meeting date; archived notes are listed only when
// asked for; invalid queries are refused.
func testQueryNotes(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	base := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	notes := make([]scribe.Note, listNotes)
	for i := range notes {
		nn := scribe.NewNote{Title: fmt.Sprintf("sync %d", i), Template: "meeting", CreatedAt: base.Add(time.Duration(i) * 24 * time.Hour)}
		if i%3 == 0 {
			nn.Template, nn.Series = "standup", "Platform weekly"
		}
		n, err := s.CreateNote(ctx, nn)
		if err != nil {
			t.Fatal(err)
		}
		notes[i] = n
	}
	all, pages := queryAll(t, s, scribe.NoteQuery{Limit: 25})
	if len(all) != listNotes || pages != 5 {
		t.Fatalf("paged %d notes in %d pages, want %d in 5", len(all), pages, listNotes)
	}
	for i, n := range all {
		if want := notes[listNotes-1-i]; n.ID != want.ID || n.Title != want.Title {
			t.Fatalf("note %d of the list is %q, want %q (newest edit first)", i, n.Title, want.Title)
		}
	}

	// An edit between pages moves the note to the top; the pages after the
	// cursor neither repeat nor skip any other note.
	first, err := s.QueryNotes(ctx, scribe.NoteQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	edited := notes[50]
	mustAppend(t, s, edited.ID, 0, ChangeOf("sess-list", 1, EditOp("", 0, 0, "x")))
	rest, _ := queryAll(t, s, scribe.NoteQuery{Limit: 30, After: first.Next})
	if len(rest) != listNotes-10-1 {
		t.Errorf("after an edit, the pages after the first hold %d notes, want %d", len(rest), listNotes-11)
	}
	seen := map[scribe.NoteID]bool{}
	for _, n := range append(first.Notes, rest...) {
		if seen[n.ID] || n.ID == edited.ID {
			t.Fatalf("note %q listed twice or after its edit", n.Title)
		}
		seen[n.ID] = true
	}
	if top, _ := s.QueryNotes(ctx, scribe.NoteQuery{Limit: 1}); len(top.Notes) != 1 || top.Notes[0].ID != edited.ID {
		t.Errorf("the edited note is not at the top: %+v", top.Notes)
	}

	// Filters.
	for _, tc := range []struct {
		name string
		q    scribe.NoteQuery
		want int
	}{
		{"template", scribe.NoteQuery{Template: "standup"}, listNotes / 3},
		{"series", scribe.NoteQuery{Series: "Platform weekly"}, listNotes / 3},
		{"no such series", scribe.NoteQuery{Series: "Board"}, 0},
		{"dates", scribe.NoteQuery{From: base.Add(10 * 24 * time.Hour), To: base.Add(20 * 24 * time.Hour)}, 10},
		{"template and dates", scribe.NoteQuery{Template: "meeting", From: base, To: base.Add(9 * 24 * time.Hour)}, 6},
	} {
		tc.q.Limit = 7
		got, _ := queryAll(t, s, tc.q)
		if len(got) != tc.want {
			t.Errorf("filter %s: %d notes, want %d", tc.name, len(got), tc.want)
		}
		for _, n := range got {
			if !tc.q.Match(n) {
				t.Errorf("filter %s listed %+v", tc.name, n)
			}
		}
	}

	// Archive hides a note from the list; the archived view shows it;
	// unarchiving brings it back.
	yes, no := true, false
	archived := notes[0]
	if n, err := s.UpdateNote(ctx, archived.ID, scribe.NoteUpdate{Archived: &yes}); err != nil || !n.Archived {
		t.Fatalf("archive: %+v, %v", n, err)
	}
	if got, _ := queryAll(t, s, scribe.NoteQuery{Limit: 100}); len(got) != listNotes-1 {
		t.Errorf("with one note archived the list holds %d notes", len(got))
	}
	if got, _ := queryAll(t, s, scribe.NoteQuery{Limit: 100, Archived: true}); len(got) != 1 || got[0].ID != archived.ID {
		t.Errorf("the archived view holds %+v", got)
	}
	if d := mustLoad(t, s, archived.ID); !d.Archived {
		t.Error("an archived note loads as not archived")
	}
	if _, err := s.UpdateNote(ctx, archived.ID, scribe.NoteUpdate{Archived: &no}); err != nil {
		t.Fatal(err)
	}
	if got, _ := queryAll(t, s, scribe.NoteQuery{Limit: 100}); len(got) != listNotes {
		t.Errorf("after unarchiving the list holds %d notes", len(got))
	}

	for _, q := range []scribe.NoteQuery{
		{Limit: 0}, {Limit: scribe.MaxNotePage + 1},
		{Limit: 5, After: "not a cursor"},
		{Limit: 5, From: base, To: base},
	} {
		_, err := s.QueryNotes(ctx, q)
		wantCode(t, err, scribe.EINVALID, fmt.Sprintf("QueryNotes(%+v)", q))
	}
}

// testQueryNotesBounded: a filter that matches nothing examines at most
// MaxNoteScan notes per page, and its pages still end.
func testQueryNotesBounded(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	for i := range scribe.MaxNoteScan + 10 {
		if _, err := s.CreateNote(ctx, scribe.NewNote{Title: fmt.Sprint(i), CreatedAt: time.Unix(int64(i)*60, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	q := scribe.NoteQuery{Limit: 10, Template: "none"}
	page, err := s.QueryNotes(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Notes) != 0 || page.Next == "" {
		t.Fatalf("the first page of a filter that matches nothing = %d notes, next %q; want none and a cursor", len(page.Notes), page.Next)
	}
	q.After = page.Next
	if page, err = s.QueryNotes(ctx, q); err != nil || len(page.Notes) != 0 || page.Next != "" {
		t.Fatalf("the second page = %+v, %v; want the end", page, err)
	}
}

// testDeleteNote: after DeleteNote the note, its log, history and shares
// are gone (ENOTFOUND everywhere), it leaves the list, and other notes stay.
func testDeleteNote(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	keep := mustCreate(t, s, "keep")
	n := mustCreate(t, s, "")
	mustAppend(t, s, n.ID, 0, ChangeOf("sess-del1", 1, EditOp("", 0, 0, "secret")))
	sh, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetNote(ctx, n.ID)
	wantCode(t, err, scribe.ENOTFOUND, "GetNote after delete")
	_, err = s.LoadNote(ctx, n.ID)
	wantCode(t, err, scribe.ENOTFOUND, "LoadNote after delete")
	_, err = s.Changes(ctx, n.ID, 0, 1)
	wantCode(t, err, scribe.ENOTFOUND, "Changes after delete")
	_, err = s.TextAt(ctx, n.ID, 1)
	wantCode(t, err, scribe.ENOTFOUND, "TextAt after delete")
	_, err = s.ResolveShare(ctx, sh.Token)
	wantCode(t, err, scribe.ENOTFOUND, "ResolveShare after delete")
	_, err = s.Append(ctx, n.ID, 1, []scribe.Change{ChangeOf("sess-del1", 2, EditOp("secret", 6, 0, "!"))})
	wantCode(t, err, scribe.ENOTFOUND, "Append after delete")
	_, err = s.Subscribe(ctx, n.ID)
	wantCode(t, err, scribe.ENOTFOUND, "Subscribe after delete")
	err = s.DeleteNote(ctx, n.ID)
	wantCode(t, err, scribe.ENOTFOUND, "DeleteNote twice")
	err = s.DeleteNote(ctx, "../x")
	wantCode(t, err, scribe.ENOTFOUND, "DeleteNote of a malformed id")
	page, err := s.QueryNotes(ctx, scribe.NoteQuery{Limit: 10})
	if err != nil || len(page.Notes) != 1 || page.Notes[0].ID != keep.ID {
		t.Errorf("the list after a delete = %+v, %v", page, err)
	}
	if d := mustLoad(t, s, keep.ID); d.Text != "keep" {
		t.Errorf("another note changed: %+v", d)
	}
}

// testFeedDelete: a delete publishes an event for the note, after which
// the note is ENOTFOUND, so a follower drops it.
func testFeedDelete(t *testing.T, s FeedStore) {
	ctx := context.Background()
	n := mustCreate(t, s, "x")
	head, err := s.FeedHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := follow(t, s, head)
	if err := s.DeleteNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if c := nextChange(t, ch); c.Lost || c.ID != n.ID {
		t.Fatalf("feed event after delete = %+v, want note %s", c, n.ID)
	}
	_, err = s.GetNote(ctx, n.ID)
	wantCode(t, err, scribe.ENOTFOUND, "GetNote once the delete's event is heard")
}
