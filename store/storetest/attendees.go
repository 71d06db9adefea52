package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// attendeesTests are the suite's checks of Note.Attendees and the note
// list's person filter.
var attendeesTests = []struct {
	name string
	fn   func(t *testing.T, s scribe.Store)
}{
	{"Attendees", testAttendees},
	{"AttendeesCap", testAttendeesCap},
	{"QueryNotesPerson", testQueryNotesPerson},
}

// testAttendees: every person who commits an edit becomes an attendee, in
// the order of their first edit, once each, with their email; a note
// nobody edited has none; a refused append adds nobody; a restore counts
// as the person who restored; the list, GetNote and LoadNote agree, and
// other settings' updates keep the list.
func testAttendees(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	if got := mustLoad(t, s, n.ID); len(got.Attendees) != 0 {
		t.Fatalf("a new note has attendees %+v", got.Attendees)
	}
	ana := scribe.Change{Op: EditOp("", 0, 0, "a"), Session: "sess-ana1", Seq: 1, Author: "Ana Lima", Email: "ana@example.com"}
	// A guest whose name holds another's key, quotes and a tab (a store
	// that finds people in encoded text must not mistake one for the other).
	odd := scribe.Change{Op: EditOp("a", 1, 0, "o"), Session: "sess-odd1", Seq: 1, Author: "x\",\"k\":\"n:bob\"}\t["}
	bob := scribe.Change{Op: EditOp("ao", 2, 0, "b"), Session: "sess-bob1", Seq: 1, Author: "Bob"} // a guest
	ana2 := scribe.Change{Op: EditOp("aob", 3, 0, "c"), Session: "sess-ana2", Seq: 1, Author: "Ana Lima", Email: "ana@example.com"}
	mustAppend(t, s, n.ID, 0, ana, odd, bob, ana2)

	// A refused append (a stale head) adds nobody.
	carol := scribe.Change{Op: EditOp("aobc", 0, 0, "x"), Session: "sess-carol", Seq: 1, Author: "Carol", Email: "carol@example.com"}
	_, err := s.Append(ctx, n.ID, 0, []scribe.Change{carol})
	wantCode(t, err, scribe.ECONFLICT, "Append at a stale head")
	// A resend of a committed change adds nobody new either.
	mustAppend(t, s, n.ID, 4, ana)

	want := []scribe.Attendee{
		{Key: "p:" + scribe.PersonKey("ana@example.com"), Name: "Ana Lima", Email: "ana@example.com"},
		{Key: "n:" + strings.ToLower(odd.Author), Name: odd.Author},
		{Key: "n:bob", Name: "Bob"},
	}
	check := func(what string, got scribe.Note) {
		t.Helper()
		if !slices.Equal(got.Attendees, want) {
			t.Errorf("%s: attendees %+v, want %+v", what, got.Attendees, want)
		}
	}
	check("LoadNote", mustLoad(t, s, n.ID).Note)
	g, err := s.GetNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("GetNote", g)
	page, err := s.QueryNotes(ctx, scribe.NoteQuery{Limit: 10})
	if err != nil || len(page.Notes) != 1 {
		t.Fatalf("QueryNotes = %+v, %v", page, err)
	}
	check("QueryNotes", page.Notes[0])

	// A restore credits others with its text; its attendee is who restored.
	dan := scribe.Change{Op: EditOp("aobc", 4, 0, "zz"), Session: "sess-dan1", Seq: 1, Author: "Dan", Email: "dan@example.com",
		Credit: []scribe.CreditRun{{Len: 2, Author: scribe.Author{Key: "n:eve", Name: "Eve"}}}}
	mustAppend(t, s, n.ID, 4, dan)
	want = append(want, scribe.Attendee{Key: "p:" + scribe.PersonKey("dan@example.com"), Name: "Dan", Email: "dan@example.com"})
	check("after a restore", mustLoad(t, s, n.ID).Note)

	title, yes := "Renamed", true
	u, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Title: &title, Archived: &yes})
	if err != nil {
		t.Fatal(err)
	}
	check("UpdateNote's result", u)
	check("after UpdateNote", mustLoad(t, s, n.ID).Note)
}

// testAttendeesCap: a note keeps at most MaxAttendees people, the first
// ones, and goes on taking edits from the others.
func testAttendeesCap(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	text, rev := "", scribe.Revision(0)
	const batch = 10
	for p := 0; p < scribe.MaxAttendees+batch; p += batch {
		var cs []scribe.Change
		for i := p; i < p+batch; i++ {
			cs = append(cs, scribe.Change{Op: EditOp(text, Len(text), 0, "x"), Session: fmt.Sprintf("sess-cap%03d", i), Seq: 1,
				Author: fmt.Sprintf("Person %03d", i), Email: fmt.Sprintf("p%03d@example.com", i)})
			text += "x"
		}
		mustAppend(t, s, n.ID, rev, cs...)
		rev += batch
	}
	d := mustLoad(t, s, n.ID)
	if d.Revision != rev || len(d.Attendees) != scribe.MaxAttendees {
		t.Fatalf("after %d people's edits: revision %d, %d attendees; want %d, %d", scribe.MaxAttendees+batch, d.Revision, len(d.Attendees), rev, scribe.MaxAttendees)
	}
	for i, a := range d.Attendees {
		if want := fmt.Sprintf("Person %03d", i); a.Name != want {
			t.Fatalf("attendee %d is %q, want %q (the first people, in order)", i, a.Name, want)
		}
	}
}

// testQueryNotesPerson: the person filter matches an attendee's name, a
// word of it, their email or its local part, with or without '@',
// ignoring case; it pages like the other filters.
func testQueryNotesPerson(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	both := mustCreate(t, s, "")
	mustAppend(t, s, both.ID, 0,
		scribe.Change{Op: EditOp("", 0, 0, "a"), Session: "sess-qp-ana", Seq: 1, Author: "Ana Lima", Email: "ana.lima@example.com"},
		scribe.Change{Op: EditOp("a", 1, 0, "b"), Session: "sess-qp-bob", Seq: 1, Author: "Bob Stone"})
	onlyBob := mustCreate(t, s, "")
	mustAppend(t, s, onlyBob.ID, 0, scribe.Change{Op: EditOp("", 0, 0, "b"), Session: "sess-qp-bob", Seq: 2, Author: "Bob Stone"})
	nobody := mustCreate(t, s, "")
	for i := 0; i < 12; i++ { // more than a page of notes that do not match
		mustAppend(t, s, mustCreate(t, s, "").ID, 0, scribe.Change{Op: EditOp("", 0, 0, "c"), Session: "sess-qp-carol", Seq: uint64(i + 1), Author: "Carol", Email: "carol@example.com"})
	}
	ids := func(ns []scribe.Note) []scribe.NoteID {
		var out []scribe.NoteID
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	for _, tc := range []struct {
		person string
		want   []scribe.NoteID
	}{
		{"Ana Lima", []scribe.NoteID{both.ID}},
		{"ana lima", []scribe.NoteID{both.ID}},
		{"ANA.LIMA@EXAMPLE.COM", []scribe.NoteID{both.ID}},
		{"@ana.lima", []scribe.NoteID{both.ID}},
		{"lima", []scribe.NoteID{both.ID}},
		{" @Bob ", []scribe.NoteID{onlyBob.ID, both.ID}},
		{"bob stone", []scribe.NoteID{onlyBob.ID, both.ID}},
		{"dave", nil},
		{"example.com", nil},
		{"an", nil},
	} {
		got, _ := queryAll(t, s, scribe.NoteQuery{Person: tc.person, Limit: 1})
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("person %q: notes %v, want %v", tc.person, ids(got), tc.want)
		}
	}
	if got, _ := queryAll(t, s, scribe.NoteQuery{Person: "carol", Limit: 5}); len(got) != 12 || slices.Contains(ids(got), nobody.ID) {
		t.Errorf("person carol: %d notes, want 12", len(got))
	}
	for _, p := range []string{string(make([]byte, scribe.MaxEmail+1)), "\xff"} {
		_, err := s.QueryNotes(ctx, scribe.NoteQuery{Person: p, Limit: 5})
		wantCode(t, err, scribe.EINVALID, fmt.Sprintf("QueryNotes(Person: %q)", p))
	}
}
