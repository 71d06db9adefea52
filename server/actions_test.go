package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
)

type actionsResp struct {
	Total int    `json:"total"`
	Today string `json:"today"`
	Items []struct {
		Note    scribe.NoteID `json:"note"`
		Title   string        `json:"title"`
		Line    int           `json:"line"`
		Source  string        `json:"source"`
		Text    string        `json:"text"`
		Owner   string        `json:"owner"`
		Due     string        `json:"due"`
		Done    bool          `json:"done"`
		Overdue bool          `json:"overdue"`
	} `json:"items"`
}

// appendAndWait appends text to the note and waits until the index (and
// so the ledger) has it.
func appendAndWait(t *testing.T, node *testNode, x *search.Indexer, id scribe.NoteID, text string) {
	t.Helper()
	var app struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": text}, &app); code != http.StatusOK {
		t.Fatalf("append: %d", code)
	}
	waitIndexed(t, x, id, app.Revision)
}

func waitIndexed(t *testing.T, x *search.Indexer, id scribe.NoteID, rev scribe.Revision) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := x.WaitFor(ctx, id, rev); err != nil {
		t.Fatal(err)
	}
}

// TestActionsAcrossNotes: the items of three notes with owners and due
// dates, by owner and overdue first, filtered by owner, state and due
// date; decisions across the notes; bad parameters are 400.
func TestActionsAcrossNotes(t *testing.T) {
	t.Parallel()
	node, x := startSearchNode(t)
	a := node.createNote("Monday sync", "blank")
	b := node.createNote("Tuesday sync", "blank")
	c := node.createNote("Wednesday sync", "blank")
	appendAndWait(t, node, x, a, "- [ ] @ana fix the build due 2020-01-05\n- [x] @bob book the room\n\n## Decisions\n\n- Ship on Friday\n")
	appendAndWait(t, node, x, b, "- [ ] @Ana write the release notes by 2999-12-20\n- [ ] @bob order pizza\n")
	appendAndWait(t, node, x, c, "- [ ] @carol call the vendor\n\nDecisions: keep the old logo\n")

	var all actionsResp
	if code, _ := node.do("GET", "/api/actions", nil, &all); code != http.StatusOK {
		t.Fatalf("actions: %d", code)
	}
	var got []string
	for _, it := range all.Items {
		got = append(got, it.Owner+":"+it.Text)
	}
	want := []string{"ana:@ana fix the build", "Ana:@Ana write the release notes", "bob:@bob order pizza", "bob:@bob book the room", "carol:@carol call the vendor"}
	if strings.Join(got, "|") != strings.Join(want, "|") || all.Total != 5 {
		t.Fatalf("items %q, want %q", got, want)
	}
	first := all.Items[0]
	if first.Note != a || !first.Overdue || first.Due != "2020-01-05" || first.Title != "Monday sync" || first.Source != "- [ ] @ana fix the build due 2020-01-05" {
		t.Errorf("first item: %+v", first)
	}
	if node.text(a) == "" || strings.Split(node.text(a), "\n")[first.Line-1] != first.Source {
		t.Errorf("line %d of the note is not the item's", first.Line)
	}

	var open actionsResp
	node.do("GET", "/api/actions?owner=@ANA&state=open&due_before=2999-12-21", nil, &open)
	if open.Total != 2 || open.Items[0].Note != a || open.Items[1].Note != b {
		t.Errorf("ana's open items due before 2999-12-21: %+v", open)
	}
	var done actionsResp
	node.do("GET", "/api/actions?state=done", nil, &done)
	if done.Total != 1 || done.Items[0].Owner != "bob" {
		t.Errorf("done items: %+v", done)
	}
	var paged actionsResp
	node.do("GET", "/api/actions?limit=2&page=3", nil, &paged)
	if paged.Total != 5 || len(paged.Items) != 1 || paged.Items[0].Owner != "carol" {
		t.Errorf("page 3 of 2: %+v", paged)
	}

	var dec struct {
		Total     int `json:"total"`
		Decisions []struct {
			Note  scribe.NoteID `json:"note"`
			Title string        `json:"title"`
			Date  time.Time     `json:"date"`
			Text  string        `json:"text"`
		} `json:"decisions"`
	}
	node.do("GET", "/api/decisions", nil, &dec)
	if dec.Total != 2 || dec.Decisions[0].Note != c || dec.Decisions[0].Text != "keep the old logo" || dec.Decisions[1].Title != "Monday sync" || dec.Decisions[1].Date.IsZero() {
		t.Errorf("decisions: %+v", dec)
	}
	node.do("GET", "/api/decisions?q=friday&from=2000-01-01&to=2999-01-01", nil, &dec)
	if dec.Total != 1 || dec.Decisions[0].Note != a {
		t.Errorf("decisions on friday: %+v", dec)
	}
	node.do("GET", "/api/decisions?q=friday&to=2000-01-01", nil, &dec)
	if dec.Total != 0 {
		t.Errorf("decisions before 2000: %+v", dec)
	}

	for _, bad := range []string{
		"/api/actions?state=later", "/api/actions?due_before=tomorrow", "/api/actions?limit=0",
		"/api/actions?limit=501", "/api/actions?page=99999", "/api/actions?owner=" + strings.Repeat("a", 101),
		"/api/decisions?from=yesterday", "/api/decisions?q=" + strings.Repeat("q", search.MaxQueryLen+1),
	} {
		if code, _ := node.do("GET", bad, nil, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

// TestTickIsALiveEdit: ticking an item through the API is one edit that
// an editor in the note receives; the item is found by its text after
// other edits moved it; a stale tick is 409 and changes nothing; the
// ledger follows.
func TestTickIsALiveEdit(t *testing.T) {
	t.Parallel()
	node, x := startSearchNode(t)
	id := node.createNote("Sync", "blank")
	appendAndWait(t, node, x, id, "- [ ] @ana fix the build\n- [ ] @bob order pizza\n")
	var list actionsResp
	node.do("GET", "/api/actions?owner=bob", nil, &list)
	if list.Total != 1 {
		t.Fatalf("bob's items: %+v", list)
	}
	item := list.Items[0]

	ed := newEditor(t, node, id, "Ada", 1)
	// Ada adds lines above the item: its listed line is now stale.
	rev := ed.rev()
	if err := ed.m.Edit(mustOp(t, "intro\nmore\n", len(utf16.Encode([]rune(ed.doc())))), nil, false); err != nil {
		t.Fatal(err)
	}
	ed.flush()
	ed.settle(rev + 1)
	before := node.text(id)

	var tick struct {
		Revision scribe.Revision `json:"revision"`
		Line     int             `json:"line"`
	}
	code, _ := node.do("POST", "/api/notes/"+string(id)+"/tick", map[string]any{"line": item.Line, "source": item.Source, "done": true}, &tick)
	if code != http.StatusOK {
		t.Fatalf("tick: %d", code)
	}
	after := node.text(id)
	if after != strings.Replace(before, "- [ ] @bob order pizza", "- [x] @bob order pizza", 1) {
		t.Fatalf("after the tick:\n%s\nbefore:\n%s", after, before)
	}
	if strings.Split(after, "\n")[tick.Line-1] != "- [x] @bob order pizza" {
		t.Errorf("tick answered line %d", tick.Line)
	}
	ed.settle(tick.Revision)
	if ed.doc() != after {
		t.Errorf("the editor has\n%s\nwant\n%s", ed.doc(), after)
	}

	// The same tick again: someone has ticked it already.
	code, _ = node.do("POST", "/api/notes/"+string(id)+"/tick", map[string]any{"line": item.Line, "source": item.Source, "done": true}, nil)
	if code != http.StatusConflict || node.text(id) != after {
		t.Errorf("stale tick: %d", code)
	}
	// An item that is not there at all.
	code, _ = node.do("POST", "/api/notes/"+string(id)+"/tick", map[string]any{"line": 1, "source": "- [ ] @bob gone", "done": true}, nil)
	if code != http.StatusConflict || node.text(id) != after {
		t.Errorf("tick of a missing item: %d", code)
	}
	for _, bad := range []map[string]any{
		{"line": 1, "source": "- [ ] @bob order pizza"},
		{"line": 0, "source": "- [ ] @bob order pizza", "done": true},
		{"line": 1, "source": "not an item", "done": true},
	} {
		if code, _ := node.do("POST", "/api/notes/"+string(id)+"/tick", bad, nil); code != http.StatusBadRequest || node.text(id) != after {
			t.Errorf("tick %v: %d, want 400", bad, code)
		}
	}

	waitIndexed(t, x, id, tick.Revision)
	node.do("GET", "/api/actions?owner=bob&state=open", nil, &list)
	if list.Total != 0 {
		t.Errorf("bob's open items after the tick: %+v", list)
	}
}
