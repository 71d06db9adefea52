package server_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// authorsOf is GET /api/notes/{id}/authors as the test reads it.
type authorsOf struct {
	Rev     scribe.Revision `json:"rev"`
	Spans   [][2]int        `json:"spans"`
	Authors []struct {
		Key   string `json:"key"`
		Name  string `json:"name"`
		Color string `json:"color"`
	} `json:"authors"`
}

// letters: each person types only their own letter, so the text itself
// says who wrote each character; the template has neither.
var letters = map[string]rune{"n:ada": 'α', "n:grace": 'γ'}

// TestAuthorsAPI: two people type at once; the authorship the API gives,
// at the head and at an earlier revision, names the right person for every
// character, and still does after the server restarts (bolt: a new process
// on the same data directory; Redis: a fresh node, the typists on two
// others). A restore keeps the authors of what it re-inserts: restoring
// the middle revision leaves every letter its typist's, restoring the
// template leaves nobody's text.
func TestAuthorsAPI(t *testing.T) {
	t.Run("bolt-restart", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		fast := server.Limits{OpsPerSecond: 10000} // the typists wait for no one but their acks
		first := servertest.Start(t, server.Config{Store: servertest.OpenBolt(t, dir), Logger: testLogger, Limits: fast})
		a := nodeOf(t, first)
		id, mid := typeTogether(t, a, a)
		checkAuthors(t, a, id, mid)
		first.Close()
		again := nodeOf(t, servertest.Start(t, server.Config{Store: servertest.OpenBolt(t, dir), Logger: testLogger}))
		checkAuthors(t, again, id, mid)
		checkRestores(t, again, id, mid)
	})
	t.Run("redis-three-nodes", func(t *testing.T) {
		t.Parallel()
		prefix := redistest.Prefix(t, "servertest")
		// The typists wait for no one but their acks: on a quiet machine
		// that can be more than the default 60 ops a second.
		fast := server.Limits{OpsPerSecond: 10000}
		a := startNode(t, redistest.Open(t, prefix), fast)
		b := startNode(t, redistest.Open(t, prefix), fast)
		id, mid := typeTogether(t, a, b)
		checkAuthors(t, a, id, mid)
		fresh := startNode(t, redistest.Open(t, prefix), server.Limits{})
		checkAuthors(t, fresh, id, mid)
		checkRestores(t, b, id, mid)
	})
}

func nodeOf(t *testing.T, s *servertest.Server) *testNode {
	return &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: s.Store, url: s.URL}
}

// typeTogether has Ada (on node x) and Grace (on node y) type their
// letters and delete at random, at once, over 400 edits in about 80 revisions, and returns the
// note and a revision in the middle.
func typeTogether(t *testing.T, x, y *testNode) (scribe.NoteID, scribe.Revision) {
	id := x.createNote("Authors", "blank")
	ada := newEditor(t, x, id, "Ada", 1)
	grace := newEditor(t, y, id, "Grace", 2)
	rng := rand.New(rand.NewPCG(4, 2))
	var mid scribe.Revision
	for i := range 200 {
		for _, e := range []*editor{ada, grace} {
			e.drain()
			typeLetter(t, e, rng, letters["n:"+map[*editor]string{ada: "ada", grace: "grace"}[e]])
		}
		if i%5 == 4 {
			// Wait for the acks now and then, so that the edits make many
			// revisions rather than a few composed ones.
			ada.settle(0)
			grace.settle(0)
		}
		if i == 100 {
			mid = ada.rev()
		}
	}
	ada.settle(0)
	grace.settle(0)
	head := max(ada.rev(), grace.rev())
	ada.settle(head)
	grace.settle(head)
	if ada.doc() != grace.doc() || head < 60 || mid < 20 {
		t.Fatalf("the typists did not converge or committed too little: head %d, mid %d", head, mid)
	}
	return id, mid
}

// typeLetter makes e insert its letter somewhere or, one time in four,
// delete one character (everything in these notes is one UTF-16 unit).
func typeLetter(t *testing.T, e *editor, rng *rand.Rand, letter rune) {
	n := ot.Len16(e.doc())
	pos := rng.IntN(n + 1)
	b := ot.NewBuilder().Retain(pos)
	if rng.IntN(4) == 0 && pos < n {
		b.Delete(1).Retain(n - pos - 1)
	} else {
		b.Insert(string(letter)).Retain(n - pos)
	}
	op, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Edit(op, nil, false); err != nil {
		t.Fatal(err)
	}
	e.flush()
}

// checkAuthors checks the authorship at the head and at mid against the
// letters of the text at those revisions.
func checkAuthors(t *testing.T, n *testNode, id scribe.NoteID, mid scribe.Revision) {
	t.Helper()
	base := "/api/notes/" + string(id)
	for _, rev := range []string{"", strconv.Itoa(int(mid))} {
		var a authorsOf
		path := base + "/authors"
		textPath := base + "/text"
		if rev != "" {
			path += "?rev=" + rev
			textPath += "?rev=" + rev
		}
		if code, _ := n.do("GET", path, nil, &a); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		_, text, _ := get(t, n.url+textPath, "")
		units := utf16.Encode([]rune(text))
		names := map[string]string{}
		for _, p := range a.Authors {
			names[p.Key] = p.Name
			if p.Color == "" || p.Key == "" {
				t.Errorf("legend entry %+v lacks a key or colour", p)
			}
		}
		if names["n:ada"] != "Ada" || names["n:grace"] != "Grace" || len(a.Authors) != 2 {
			t.Fatalf("legend at %q: %+v, want Ada and Grace", rev, a.Authors)
		}
		at := 0
		for _, s := range a.Spans {
			key := ""
			if s[1] >= 0 {
				key = a.Authors[s[1]].Key
			}
			for range s[0] {
				if at >= len(units) {
					t.Fatalf("spans at %q cover more than the text's %d units", rev, len(units))
				}
				if letter, ok := letters[key]; ok != (rune(units[at]) == letter) || !ok && (rune(units[at]) == 'α' || rune(units[at]) == 'γ') {
					t.Fatalf("at %q, unit %d %q is attributed to %q", rev, at, rune(units[at]), key)
				}
				at++
			}
		}
		if at != len(units) {
			t.Fatalf("spans at %q cover %d units of %d", rev, at, len(units))
		}
	}
}

// checkRestores restores mid, then revision 0, checking who wrote what
// after each.
func checkRestores(t *testing.T, n *testNode, id scribe.NoteID, mid scribe.Revision) {
	t.Helper()
	base := "/api/notes/" + string(id)
	var res struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := n.do("POST", base+"/restore", map[string]any{"rev": mid}, &res); code != 200 {
		t.Fatalf("restore: %d", code)
	}
	checkAuthors(t, n, id, res.Revision)
	if code, _ := n.do("POST", base+"/restore", map[string]any{"rev": 0}, nil); code != 200 {
		t.Fatalf("restore: %d", code)
	}
	var a authorsOf
	if code, _ := n.do("GET", base+"/authors", nil, &a); code != 200 || len(a.Authors) != 0 || len(a.Spans) != 1 || a.Spans[0][1] != -1 {
		t.Fatalf("after restoring the template: %d %+v, want one span by nobody", code, a)
	}
	if code, _ := n.do("GET", base+"/authors?rev=x", nil, nil); code != 400 {
		t.Errorf("authors at rev=x: %d, want 400", code)
	}
	if code, _ := n.do("GET", base+"/authors?rev=1000000", nil, nil); code != 400 {
		t.Errorf("authors beyond the head: %d, want 400", code)
	}
}
