package server_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestHistoryAPI: revisions, the text at a revision, diffs in both forms,
// named checkpoints, and a restore that another client sees live; on one
// bolt node and across two nodes sharing Redis (the editor on one, the API
// calls on the other).
func TestHistoryAPI(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		n := startNode(t, newBoltStore(t), server.Limits{})
		testHistoryAPI(t, n, n)
	})
	t.Run("redis-two-nodes", func(t *testing.T) {
		t.Parallel()
		prefix := redistest.Prefix(t, "servertest")
		a := startNode(t, redistest.Open(t, prefix), server.Limits{})
		b := startNode(t, redistest.Open(t, prefix), server.Limits{})
		testHistoryAPI(t, a, b)
	})
}

func testHistoryAPI(t *testing.T, api, live *testNode) {
	id := api.createNote("Weekly", "blank")
	base := "/api/notes/" + string(id)
	e := newEditor(t, live, id, "Watcher", 1)
	texts := []string{api.text(id)}
	for i := 1; i <= 5; i++ {
		var res struct {
			Revision scribe.Revision `json:"revision"`
		}
		if code, _ := api.do("POST", base+"/append", map[string]string{"text": "line " + strconv.Itoa(i)}, &res); code != 200 || res.Revision != scribe.Revision(i) {
			t.Fatalf("append %d: %d %+v", i, code, res)
		}
		texts = append(texts, api.text(id))
	}
	e.settle(5)

	// The text at every revision.
	for r, want := range texts {
		code, body, hdr := get(t, api.url+base+"/text?rev="+strconv.Itoa(r), "")
		if code != 200 || body != want || hdr.Get("Scribe-Revision") != strconv.Itoa(r) {
			t.Fatalf("text at %d: %d %q (rev %s), want %q", r, code, body, hdr.Get("Scribe-Revision"), want)
		}
	}
	if code, _, _ := get(t, api.url+base+"/text?rev=6", ""); code != http.StatusBadRequest {
		t.Errorf("text beyond the head: %d, want 400", code)
	}
	if code, _, _ := get(t, api.url+base+"/text?rev=x", ""); code != http.StatusBadRequest {
		t.Errorf("text at rev=x: %d, want 400", code)
	}

	// A diff, as JSON and as a unified diff.
	var d history.Diff
	if code, _ := api.do("GET", base+"/diff?from=2&to=4", nil, &d); code != 200 || d.Added != 2 || d.Removed != 0 || len(d.Hunks) != 1 {
		t.Fatalf("diff: %d %+v", code, d)
	}
	code, unified, hdr := get(t, api.url+base+"/diff?from=2&to=4", "text/x-diff")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/x-diff") || !strings.Contains(unified, "+line 3\n+line 4\n") || !strings.HasPrefix(unified, "--- rev-2\n+++ rev-4\n") {
		t.Fatalf("unified diff: %d %q", code, unified)
	}
	if _, again, _ := get(t, api.url+base+"/diff?from=2&to=4&format=unified", ""); again != unified {
		t.Errorf("format=unified gave %q, want the Accept answer", again)
	}

	// A named checkpoint cuts the history there.
	var cp scribe.Checkpoint
	if code, _ := api.do("POST", base+"/checkpoints", map[string]any{"name": "before the vote", "rev": 3}, &cp); code != http.StatusCreated || cp.Rev != 3 || cp.Name != "before the vote" {
		t.Fatalf("add checkpoint: %d %+v", code, cp)
	}
	if code, _ := api.do("POST", base+"/checkpoints", map[string]any{"name": ""}, nil); code != http.StatusBadRequest {
		t.Errorf("a checkpoint without a name: %d, want 400", code)
	}

	// Restore revision 2: one new edit, seen live on the other node.
	var res struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := api.do("POST", base+"/restore", map[string]any{"rev": 2}, &res); code != 200 || res.Revision != 6 {
		t.Fatalf("restore: %d %+v", code, res)
	}
	e.settle(6)
	if e.doc() != texts[2] || api.text(id) != texts[2] {
		t.Fatalf("after restoring 2: client %q, store %q, want %q", e.doc(), api.text(id), texts[2])
	}
	// Nothing was rewritten: the past is still there.
	if _, body, _ := get(t, api.url+base+"/text?rev=5", ""); body != texts[5] {
		t.Errorf("text at 5 after the restore: %q, want %q", body, texts[5])
	}

	var page history.Page
	if code, _ := api.do("GET", base+"/revisions", nil, &page); code != 200 || len(page.Checkpoints) < 3 {
		t.Fatalf("revisions: %d %+v", code, page)
	}
	head := page.Checkpoints[0]
	if head.Rev != 6 || head.Removed == 0 {
		t.Errorf("the newest checkpoint %+v, want the restore at 6 with characters removed", head)
	}
	found := false
	for _, c := range page.Checkpoints {
		if c.Rev == 3 && len(c.Names) == 1 && c.Names[0] == "before the vote" {
			found = true
		}
	}
	if !found || page.Checkpoints[len(page.Checkpoints)-1].Rev != 0 {
		t.Errorf("revisions lack the named checkpoint or revision 0: %+v", page.Checkpoints)
	}
}

// get fetches url with an optional Accept header.
func get(t *testing.T, url, accept string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestHistoryPage: the page at /n/{id}/history, linked from the editor for
// those who may read the history (not for a guest), carries the commit
// link template; an unknown note is a 404 page; a bad template stops New.
func TestHistoryPage(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	s := servertest.Start(t, server.Config{Store: store, Logger: testLogger, CommitURL: "https://git.example.com/notes/commit/{sha}"})
	n := &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: store, url: s.URL}
	id := n.createNote("Weekly <sync>", "blank")

	code, body, hdr := get(t, n.url+"/n/"+string(id)+"/history", "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("history page: %d %v", code, hdr)
	}
	for _, want := range []string{`data-page="history"`, `data-note-id="` + string(id) + `"`,
		`data-commit-links="https://git.example.com/notes/commit/{sha}"`, `href="/n/` + string(id) + `"`,
		"<title>History of Weekly &lt;sync&gt; · Scribe</title>", `id="rev-slider"`} {
		if !strings.Contains(body, want) {
			t.Errorf("history page lacks %s", want)
		}
	}
	if _, body, _ := get(t, n.url+"/n/"+string(id), ""); !strings.Contains(body, `href="/n/`+string(id)+`/history"`) {
		t.Error("the editor does not link the history page")
	}
	if code, _, _ := get(t, n.url+"/n/"+string(scribe.NewNoteID())+"/history", ""); code != http.StatusNotFound {
		t.Errorf("history of an unknown note: %d, want 404", code)
	}

	// A guest edits by link but may not read the history: no link to it.
	proxy := startAccessNode(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"127.0.0.1/32"}, PublicURL: "https://notes.example.com"})
	if code, body, _ := get(t, proxy.srv.URL+"/n/"+string(proxy.guestOn), ""); code != 200 || strings.Contains(body, "/history") {
		t.Errorf("a guest's editor page: %d, links the history: %v", code, strings.Contains(body, "/history"))
	}

	for _, bad := range []string{"https://git.example.com/commit/", "javascript:alert({sha})", "/commit/{sha}"} {
		if _, err := server.New(server.Config{Store: store, CommitURL: bad}); err == nil {
			t.Errorf("New accepted the commit URL %q", bad)
		}
	}
}

// TestNoteETag: GET /api/notes/{id} answers 304 to its own ETag while the
// note is unchanged (the history page polls it), and 200 once it changed.
func TestNoteETag(t *testing.T) {
	t.Parallel()
	n := startNode(t, newBoltStore(t), server.Limits{})
	id := n.createNote("Weekly", "blank")
	path := n.url + "/api/notes/" + string(id)
	ifNoneMatch := func(tag string) (int, string, http.Header) {
		req, err := http.NewRequest("GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", tag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, _, hdr := get(t, path, "")
	tag := hdr.Get("ETag")
	if code != 200 || tag == "" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET note: %d, ETag %q, Cache-Control %q (it holds the edit link: no-store)", code, tag, hdr.Get("Cache-Control"))
	}
	if code, body, _ := ifNoneMatch(tag); code != http.StatusNotModified || body != "" {
		t.Fatalf("unchanged note: %d %q, want 304 and no body", code, body)
	}
	if code, _ := n.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": "more"}, nil); code != 200 {
		t.Fatalf("append: %d", code)
	}
	code, body, hdr := ifNoneMatch(tag)
	if code != 200 || hdr.Get("ETag") == tag || !strings.Contains(body, `"revision":1`) {
		t.Fatalf("changed note: %d %q (ETag %q, was %q)", code, body, hdr.Get("ETag"), tag)
	}
}
