package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
)

// startSearchNode starts a node in local mode whose search index (in
// memory) and ledger follow its store, as cmd/scribe wires them.
func startSearchNode(t *testing.T) (*testNode, *search.Indexer) {
	t.Helper()
	return startSearchNodeOn(t, newBoltStore(t))
}

// startSearchNodeOn is startSearchNode over a given store: several nodes
// over one Redis prefix each keep their own index.
func startSearchNodeOn(t *testing.T, store scribe.Store) (*testNode, *search.Indexer) {
	t.Helper()
	idx, err := search.OpenBleve("")
	if err != nil {
		t.Fatal(err)
	}
	ledger := search.NewLedger()
	s := servertest.Start(t, server.Config{Store: store, Logger: testLogger, Search: idx, Ledger: ledger})
	x := search.NewIndexer(store, store.(scribe.NoteFeed), idx, idx.Fresh(), search.IndexerOptions{Debounce: 50 * time.Millisecond, Logger: testLogger, Ledger: ledger})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = x.Close()
		_ = idx.Close()
	})
	return &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: store, url: s.URL}, x
}

type searchResp struct {
	Total uint64 `json:"total"`
	Page  int    `json:"page"`
	Hits  []struct {
		ID       scribe.NoteID `json:"id"`
		Title    string        `json:"title"`
		Date     time.Time     `json:"date"`
		Template string        `json:"template"`
		Snippets []string      `json:"snippets"`
		Score    float64       `json:"score"`
	} `json:"hits"`
}

// searchUntil polls GET /api/search?q= until a hit is id (or, with gone,
// until none is), failing after a deadline.
func searchUntil(t *testing.T, n *testNode, q string, id scribe.NoteID, gone bool) searchResp {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out searchResp
		code, _ := n.do("GET", "/api/search?q="+url.QueryEscape(q), nil, &out)
		if code != http.StatusOK {
			t.Fatalf("search %q: %d", q, code)
		}
		found := false
		for _, h := range out.Hits {
			found = found || h.ID == id
		}
		if found != gone {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q: found=%v after 5 s: %+v", q, found, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSearchFindsAnEdit: text appended to a note becomes findable through
// GET /api/search, with a highlighted snippet, its title and date.
func TestSearchFindsAnEdit(t *testing.T) {
	t.Parallel()
	node, x := startSearchNode(t)
	id := node.createNote("Platform weekly sync", "blank")
	var app struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": "We chose the quokka plan.\n"}, &app); code != http.StatusOK {
		t.Fatalf("append: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.WaitFor(ctx, id, app.Revision); err != nil {
		t.Fatal(err)
	}
	out := searchUntil(t, node, "quok", id, false) // a prefix, as while typing
	h := out.Hits[0]
	if out.Total != 1 || h.ID != id || h.Title != "Platform weekly sync" || h.Date.IsZero() || h.Score <= 0 {
		t.Fatalf("hit: %+v", out)
	}
	if len(h.Snippets) == 0 || !strings.Contains(h.Snippets[0], "<mark>quokka</mark>") {
		t.Errorf("snippets %q: want <mark>quokka</mark>", h.Snippets)
	}
	if out := searchUntil(t, node, "nothing-like-this", id, true); out.Total != 0 {
		t.Errorf("unrelated query: %+v", out)
	}
}

// TestSearchBounds: the query, the page and the dates are checked before
// the index is asked; a stranger is refused.
func TestSearchBounds(t *testing.T) {
	t.Parallel()
	node, _ := startSearchNode(t)
	for _, q := range []string{
		"q=" + strings.Repeat("a", search.MaxQueryLen+1),
		"q=a&limit=0",
		"q=a&limit=101",
		"q=a&page=0",
		"q=a&page=10000",
		"q=a&from=yesterday",
		"q=%ff",
	} {
		if code, _ := node.do("GET", "/api/search?"+q, nil, nil); code != http.StatusBadRequest {
			t.Errorf("%.40s: %d, want 400", q, code)
		}
	}
	for _, q := range []string{"q=a&page=2&limit=100", "from=2024-01-01&to=2024-12-31", "template=blank&person=ada"} {
		if code, _ := node.do("GET", "/api/search?"+q, nil, nil); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", q, code)
		}
	}
	// Through a proxy, local mode's person is a stranger.
	req, _ := http.NewRequest("GET", node.url+"/api/search?q=a", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("stranger: %d, want 403", resp.StatusCode)
	}
}

// TestSearchUnconfigured: without an index, search answers 503.
func TestSearchUnconfigured(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	if code, _ := node.do("GET", "/api/search?q=a", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("search without an index: %d, want 503", code)
	}
}
