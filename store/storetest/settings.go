package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// testUpdateNote: UpdateNote changes the title and the guest-editing
// setting, each alone, keeps the log and revision, and refuses an unknown
// note or an invalid title without writing anything.
func testUpdateNote(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "Standup", Text: "hello", GuestEdit: true})
	if err != nil {
		t.Fatal(err)
	}
	if !n.GuestEdit {
		t.Fatalf("CreateNote with GuestEdit: %+v", n)
	}
	if got, err := s.GetNote(ctx, n.ID); err != nil || !got.GuestEdit {
		t.Fatalf("GetNote after create = %+v, %v; want guest editing on", got, err)
	}
	mustAppend(t, s, n.ID, 0, ChangeOf("sess-0001", 1, EditOp("hello", 5, 0, "!")))
	off := false
	got, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{GuestEdit: &off})
	if err != nil {
		t.Fatal(err)
	}
	if got.GuestEdit || got.Title != "Standup" || got.Revision != 1 {
		t.Errorf("UpdateNote(guest off) = %+v", got)
	}
	title := "Standup, renamed"
	if _, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	d := mustLoad(t, s, n.ID)
	if d.Title != title || d.GuestEdit || d.Revision != 1 || d.Text != "hello!" {
		t.Errorf("LoadNote after updates = %+v", d)
	}
	on := true
	if got, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{GuestEdit: &on}); err != nil || !got.GuestEdit || got.Title != title {
		t.Errorf("UpdateNote(guest on) = %+v, %v", got, err)
	}
	series := "Platform weekly"
	if got, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Series: &series}); err != nil || got.Series != series || got.Title != title || !got.GuestEdit {
		t.Errorf("UpdateNote(series) = %+v, %v", got, err)
	}
	if got, _ := s.GetNote(ctx, n.ID); got.Series != series {
		t.Errorf("GetNote after a series was set = %+v", got)
	}
	badSeries := "two\nlines"
	_, err = s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Series: &badSeries, GuestEdit: &off})
	wantCode(t, err, scribe.EINVALID, "UpdateNote with a control character in the series")
	none := ""
	if got, err := s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Series: &none}); err != nil || got.Series != "" || !got.GuestEdit {
		t.Errorf("UpdateNote(no series) = %+v, %v", got, err)
	}

	bad := strings.Repeat("x", scribe.MaxTitle+1)
	_, err = s.UpdateNote(ctx, n.ID, scribe.NoteUpdate{Title: &bad, GuestEdit: &off})
	wantCode(t, err, scribe.EINVALID, "UpdateNote with a long title")
	if got, _ := s.GetNote(ctx, n.ID); got.Title != title || !got.GuestEdit {
		t.Errorf("a refused update changed the note: %+v", got)
	}
	_, err = s.UpdateNote(ctx, scribe.NewNoteID(), scribe.NoteUpdate{GuestEdit: &on})
	wantCode(t, err, scribe.ENOTFOUND, "UpdateNote of an unknown note")
	_, err = s.UpdateNote(ctx, "../x", scribe.NoteUpdate{GuestEdit: &on})
	wantCode(t, err, scribe.ENOTFOUND, "UpdateNote of a malformed id")
	if n2, err := s.CreateNote(ctx, scribe.NewNote{Text: "x"}); err != nil || n2.GuestEdit {
		t.Errorf("a note created without GuestEdit = %+v, %v; want it off", n2, err)
	}
}

// testShareMeta: a share keeps its label and maker through Resolve and
// List; an invalid label is refused and creates nothing.
func testShareMeta(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "x")
	by := scribe.Person{Name: "Ada Lovelace", Email: "ada@example.com", Via: scribe.ViaSignIn}
	sh, err := s.CreateShare(ctx, n.ID, scribe.ShareMeta{Label: "for the board", By: by})
	if err != nil {
		t.Fatal(err)
	}
	if sh.Label != "for the board" || sh.By != by {
		t.Errorf("CreateShare = %+v", sh)
	}
	got, err := s.ResolveShare(ctx, sh.Token)
	if err != nil || got.Label != sh.Label || got.By != by {
		t.Errorf("ResolveShare = %+v, %v", got, err)
	}
	_, err = s.CreateShare(ctx, n.ID, scribe.ShareMeta{Label: strings.Repeat("l", scribe.MaxShareLabel+1)})
	wantCode(t, err, scribe.EINVALID, "CreateShare with a long label")
	plain, err := s.CreateShare(ctx, n.ID)
	if err != nil || plain.Label != "" || plain.By != (scribe.Person{}) {
		t.Fatalf("CreateShare without meta = %+v, %v", plain, err)
	}
	list, err := s.ListShares(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Label != "for the board" || list[0].By != by || list[1].Label != "" {
		t.Errorf("ListShares = %+v", list)
	}
}
