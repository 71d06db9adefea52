package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/store/redis/redistest"
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

// noteTitle polls GET /api/notes/{id} until its title is want, failing
// after a deadline: a title that follows the heading is stored within
// room.Timing.TitleSave (1 s).
func noteTitle(t *testing.T, n *testNode, id scribe.NoteID, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out noteResp
		if code, _ := n.do("GET", "/api/notes/"+string(id), nil, &out); code != http.StatusOK {
			t.Fatalf("get note: %d", code)
		}
		if out.Title == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET title %q after 5 s, want %q", out.Title, want)
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
	noteTitle(t, node, id, "Weekly retro")
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

// TestTitleAndSearchOnTwoNodes: two nodes on one Redis, each with its own
// search index fed by the change feed. A title that follows the heading
// typed on node A reaches a client on node B (title message), GET on B and
// B's search; a title set explicitly on B reaches a client on A and GET on
// A; and both nodes answer the same queries the same way.
func TestTitleAndSearchOnTwoNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "titlenodes")
	a, _ := startSearchNodeOn(t, redistest.Open(t, prefix))
	b, _ := startSearchNodeOn(t, redistest.Open(t, prefix))
	id := a.createNote("Weekly sync", "blank")
	ea := newEditor(t, a, id, "Ada", 1)
	eb := newEditor(t, b, id, "Bob", 2)

	ea.typeOp(replaceOp(t, ea.doc(), "sync", "retro"))
	if got := eb.waitTitle(); got != "Weekly retro" {
		t.Errorf("the client on B heard title %q, want Weekly retro", got)
	}
	if got := ea.waitTitle(); got != "Weekly retro" {
		t.Errorf("the client on A heard title %q, want Weekly retro", got)
	}
	noteTitle(t, b, id, "Weekly retro")
	searchTitle(t, b, "retro", "Weekly retro")

	if code, _ := b.do("PATCH", "/api/notes/"+string(id), map[string]string{"title": "Board review"}, nil); code != http.StatusOK {
		t.Fatalf("rename on B: %d", code)
	}
	if got := ea.waitTitle(); got != "Board review" {
		t.Errorf("the client on A heard title %q, want Board review", got)
	}
	noteTitle(t, a, id, "Board review")
	searchTitle(t, a, "board", "Board review")
	searchTitle(t, b, "board", "Board review")

	for _, q := range []string{"board", "retro", "revi", `"board review"`} {
		var ra, rb searchResp
		a.do("GET", "/api/search?q="+url.QueryEscape(q), nil, &ra)
		b.do("GET", "/api/search?q="+url.QueryEscape(q), nil, &rb)
		if ra.Total != rb.Total || len(ra.Hits) != len(rb.Hits) {
			t.Errorf("query %q: A found %+v, B %+v", q, ra, rb)
			continue
		}
		for i := range ra.Hits {
			if ra.Hits[i].ID != rb.Hits[i].ID || ra.Hits[i].Title != rb.Hits[i].Title {
				t.Errorf("query %q, hit %d: A %+v, B %+v", q, i, ra.Hits[i], rb.Hits[i])
			}
		}
	}
}
