package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// replaceOp returns the op that replaces the first old in doc with new.
func replaceOp(t *testing.T, doc, old, new string) ot.Operation {
	t.Helper()
	i := strings.Index(doc, old)
	if i < 0 {
		t.Fatalf("%q not in %q", old, doc)
	}
	pre := len(utf16.Encode([]rune(doc[:i])))
	rest := len(utf16.Encode([]rune(doc[i+len(old):])))
	items := []any{}
	if pre > 0 {
		items = append(items, pre)
	}
	items = append(items, -len(utf16.Encode([]rune(old))), new)
	if rest > 0 {
		items = append(items, rest)
	}
	return mustOp(t, items...)
}

// typeOp makes e's edit and waits for its ack.
func (e *editor) typeOp(op ot.Operation) {
	e.t.Helper()
	want := e.rev() + 1
	if err := e.m.Edit(op, nil, false); err != nil {
		e.t.Fatal(err)
	}
	e.flush()
	e.settle(want)
}

// waitTitle handles e's messages until a title message arrives, and
// returns its title.
func (e *editor) waitTitle() string {
	e.t.Helper()
	for {
		m := e.next()
		if m.Type == "title" {
			return m.Title
		}
		e.handle(m)
	}
}

// searchTitle polls search for q until its first hit has title, failing
// after a deadline: the title reaches the index through the change feed.
func searchTitle(t *testing.T, n *testNode, q, title string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out searchResp
		if code, _ := n.do("GET", "/api/search?q="+url.QueryEscape(q), nil, &out); code != http.StatusOK {
			t.Fatalf("search %q: %d", q, code)
		}
		if len(out.Hits) > 0 && out.Hits[0].Title == title {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q: %+v after 5 s, want title %q", q, out, title)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTitleFollowsHeading: editing the first heading renames the note for
// everyone (a title message, GET /api/notes/{id}, search); a title set
// explicitly reaches everyone too and stops the following.
func TestTitleFollowsHeading(t *testing.T) {
	t.Parallel()
	node, _ := startSearchNode(t)
	id := node.createNote("Weekly sync", "blank")
	a := newEditor(t, node, id, "Ada", 1)
	b := newEditor(t, node, id, "Bob", 2)
	title := func() string {
		var out noteResp
		if code, _ := node.do("GET", "/api/notes/"+string(id), nil, &out); code != http.StatusOK {
			t.Fatalf("get note: %d", code)
		}
		return out.Title
	}
	if got := title(); got != "Weekly sync" {
		t.Fatalf("title %q", got)
	}

	a.typeOp(replaceOp(t, a.doc(), "sync", "retro"))
	if got := b.waitTitle(); got != "Weekly retro" {
		t.Errorf("b heard title %q, want Weekly retro", got)
	}
	if got := a.waitTitle(); got != "Weekly retro" {
		t.Errorf("a heard title %q, want Weekly retro", got)
	}
	if got := title(); got != "Weekly retro" {
		t.Errorf("GET title %q after the heading changed", got)
	}
	searchTitle(t, node, "retro", "Weekly retro")
	// Typing elsewhere changes no title.
	a.typeOp(replaceOp(t, a.doc(), "retro", "retro\n\nnotes # not a heading"))
	if got := title(); got != "Weekly retro" {
		t.Errorf("title %q after an edit below the heading", got)
	}

	// An explicit rename reaches both and stops the following.
	if code, _ := node.do("PATCH", "/api/notes/"+string(id), map[string]string{"title": "Board review"}, nil); code != http.StatusOK {
		t.Fatalf("rename: %d", code)
	}
	if got := b.waitTitle(); got != "Board review" {
		t.Errorf("b heard title %q, want Board review", got)
	}
	if got := a.waitTitle(); got != "Board review" {
		t.Errorf("a heard title %q, want Board review", got)
	}
	searchTitle(t, node, "board", "Board review")
	a.typeOp(replaceOp(t, a.doc(), "Weekly", "Monthly"))
	if got := title(); got != "Board review" {
		t.Errorf("title %q: an explicit title must stay when the heading changes", got)
	}
	// A new connection is welcomed with the current title.
	w := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w.send(protocol.EncodeHello(protocol.Hello{Session: newSession(), Name: "Di"}))
	if m := w.expect("welcome"); m.Title != "Board review" {
		t.Errorf("welcome title %q", m.Title)
	}
}
