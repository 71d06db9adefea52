package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/server"
)

// request sends a raw request and returns the status, headers and body.
func request(t *testing.T, method, url, contentType, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// errorOf decodes an API error answer, failing when it is not one.
func errorOf(t *testing.T, hdr http.Header, body []byte) (code, message string) {
	t.Helper()
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q", ct)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("not an error body: %q", body)
	}
	return e.Code, e.Message
}

func TestAPINotes(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{MaxNoteBytes: 4000})
	base := node.url

	// Create from a template; the text is the filled-in template.
	var created noteResp
	if code, hdr := node.do("POST", "/api/notes", map[string]string{"title": "Release 😀 planning", "template": "meeting"}, &created); code != 201 || hdr.Get("Location") != "/api/notes/"+string(created.ID) {
		t.Fatalf("create: %d %v", code, hdr)
	}
	if created.URL != base+"/n/"+string(created.ID) || created.Title != "Release 😀 planning" || created.Revision != 0 {
		t.Fatalf("created = %+v", created)
	}
	if text := node.text(created.ID); !strings.Contains(text, "Release 😀 planning") {
		t.Fatalf("template not filled: %q", text)
	}
	second := node.createNote("", "")

	// List: most recently edited first.
	var list struct{ Notes []noteResp }
	if code, _ := node.do("GET", "/api/notes?limit=10", nil, &list); code != 200 || len(list.Notes) != 2 || list.Notes[0].ID != second {
		t.Fatalf("list: %d %+v", code, list)
	}
	if list.Notes[1].URL == "" {
		t.Fatal("list entries carry no url")
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=101"} {
		code, hdr, body := request(t, "GET", base+"/api/notes?"+q, "", "", nil)
		if c, _ := errorOf(t, hdr, body); code != 400 || c != scribe.EINVALID {
			t.Errorf("list %s: %d %s", q, code, c)
		}
	}

	// A series is set at creation (trimmed) and changed with PATCH.
	var weekly noteResp
	if code, _ := node.do("POST", "/api/notes", map[string]string{"title": "Sync", "series": " Platform weekly "}, &weekly); code != 201 || weekly.Series != "Platform weekly" {
		t.Fatalf("create in a series: %d %+v", code, weekly)
	}
	if code, _ := node.do("PATCH", "/api/notes/"+string(weekly.ID), map[string]string{"series": "Platform monthly"}, &weekly); code != 200 || weekly.Series != "Platform monthly" {
		t.Fatalf("move to another series: %d %+v", code, weekly)
	}
	for _, body := range []string{`{"series":"a\u0007b"}`, `{"series":"` + strings.Repeat("s", scribe.MaxSeries+1) + `"}`} {
		code, hdr, resp := request(t, "PATCH", base+"/api/notes/"+string(weekly.ID), "application/json", body, nil)
		if c, _ := errorOf(t, hdr, resp); code != 400 || c != scribe.EINVALID {
			t.Errorf("PATCH %s: %d %s", body, code, c)
		}
	}

	// Get and text.
	var got noteResp
	if code, _ := node.do("GET", "/api/notes/"+string(created.ID), nil, &got); code != 200 || got.ID != created.ID {
		t.Fatalf("get: %d %+v", code, got)
	}
	code, hdr, body := request(t, "GET", base+"/api/notes/"+string(created.ID)+"/text", "", "", nil)
	if code != 200 || hdr.Get("Content-Type") != "text/markdown; charset=utf-8" || hdr.Get("Scribe-Revision") != "0" || string(body) != node.text(created.ID) {
		t.Fatalf("text: %d %v %q", code, hdr, body)
	}

	// Append twice; with an idempotency key, a retry adds nothing.
	var res struct{ Revision scribe.Revision }
	if code, _ := node.do("POST", "/api/notes/"+string(created.ID)+"/append", map[string]string{"text": "first"}, &res); code != 200 || res.Revision != 1 {
		t.Fatalf("append: %d %+v", code, res)
	}
	for range 2 {
		code, _, body := request(t, "POST", base+"/api/notes/"+string(created.ID)+"/append", "application/json",
			`{"text":"deploy 1.4 finished","author":"deploy-bot"}`, map[string]string{"Idempotency-Key": "deploy-1-4-done"})
		if code != 200 || !bytes.Contains(body, []byte(`"revision":2`)) {
			t.Fatalf("idempotent append: %d %s", code, body)
		}
	}
	text := node.text(created.ID)
	if strings.Count(text, "deploy 1.4 finished") != 1 || !strings.HasSuffix(text, "\nfirst\ndeploy 1.4 finished\n") {
		t.Fatalf("after appends: %q", text)
	}
	changes, err := node.store.Changes(t.Context(), created.ID, 1, 2)
	if err != nil || len(changes) != 1 || changes[0].Author != "deploy-bot" {
		t.Fatalf("append's change: %+v %v", changes, err)
	}

	// Downloads.
	code, hdr, body = request(t, "GET", base+"/api/notes/"+string(created.ID)+"/download.md", "", "", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Disposition"), `attachment; filename="`) || !strings.HasSuffix(hdr.Get("Content-Disposition"), `-release-planning.md"`) || string(body) != text {
		t.Fatalf("download.md: %d %v", code, hdr)
	}
	code, hdr, body = request(t, "GET", base+"/api/notes/"+string(created.ID)+"/download.html", "", "", nil)
	if code != 200 || !strings.HasSuffix(hdr.Get("Content-Disposition"), `-release-planning.html"`) || !bytes.Contains(body, []byte("deploy 1.4 finished")) || !bytes.Contains(body, []byte("<html")) {
		t.Fatalf("download.html: %d %v %s", code, hdr, body)
	}

	// Errors: each a JSON body with the fitting status.
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"unknown note", "GET", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA", "", "", 404, scribe.ENOTFOUND},
		{"malformed id", "GET", "/api/notes/..%2f..%2fetc", "", "", 404, scribe.ENOTFOUND},
		{"unknown note text", "GET", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/text", "", "", 404, scribe.ENOTFOUND},
		{"unknown endpoint", "GET", "/api/nope", "", "", 404, scribe.ENOTFOUND},
		{"wrong method", "PUT", "/api/notes", "application/json", "{}", 405, scribe.EINVALID},
		{"unknown template", "POST", "/api/notes", "application/json", `{"template":"nope"}`, 404, scribe.ENOTFOUND},
		{"bad json", "POST", "/api/notes", "application/json", `{"title":`, 400, scribe.EINVALID},
		{"unknown field", "POST", "/api/notes", "application/json", `{"titel":"x"}`, 400, scribe.EINVALID},
		{"wrong type", "POST", "/api/notes", "application/json", `{"title":5}`, 400, scribe.EINVALID},
		{"form post", "POST", "/api/notes", "application/x-www-form-urlencoded", `title=x`, 400, scribe.EINVALID},
		{"text/plain post", "POST", "/api/notes/" + string(created.ID) + "/append", "text/plain", `{"text":"x"}`, 400, scribe.EINVALID},
		{"empty append", "POST", "/api/notes/" + string(created.ID) + "/append", "application/json", `{"text":""}`, 400, scribe.EINVALID},
		{"append too large", "POST", "/api/notes/" + string(created.ID) + "/append", "application/json", `{"text":"` + strings.Repeat("x", 5000) + `"}`, 413, scribe.ETOOLARGE},
		{"export not configured", "POST", "/api/notes/" + string(created.ID) + "/export", "application/json", `{"author":"Ada"}`, 503, scribe.EUNAVAILABLE},
		{"unknown share", "GET", "/api/shares/AAAAAAAAAAAAAAAAAAAAAA", "", "", 404, scribe.ENOTFOUND},
		{"revoke unknown share", "DELETE", "/api/notes/" + string(created.ID) + "/shares/AAAAAAAAAAAAAAAAAAAAAA", "", "", 404, scribe.ENOTFOUND},
		{"old revoke route", "DELETE", "/api/shares/AAAAAAAAAAAAAAAAAAAAAA", "", "", 405, scribe.EINVALID},
		{"ws unknown note", "GET", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/ws", "", "", 404, scribe.ENOTFOUND},
		{"append to unknown note", "POST", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/append", "application/json", `{"text":"x"}`, 404, scribe.ENOTFOUND},
		{"share unknown note", "POST", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/shares", "application/json", ``, 404, scribe.ENOTFOUND},
		{"export unknown note", "POST", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/export", "application/json", `{"author":"Ada"}`, 404, scribe.ENOTFOUND},
		{"download unknown note", "GET", "/api/notes/AAAAAAAAAAAAAAAAAAAAAA/download.html", "", "", 404, scribe.ENOTFOUND},
		{"bad idempotency key", "POST", "/api/notes/" + string(created.ID) + "/append", "application/json", `{"text":"x"}`, 400, scribe.EINVALID},
	}
	for _, tc := range cases {
		var hdrs map[string]string
		if tc.name == "bad idempotency key" {
			hdrs = map[string]string{"Idempotency-Key": "no spaces allowed"}
		}
		code, hdr, body := request(t, tc.method, base+tc.path, tc.ctype, tc.body, hdrs)
		c, _ := errorOf(t, hdr, body)
		if code != tc.status || c != tc.code {
			t.Errorf("%s: %d %s (%s), want %d %s", tc.name, code, c, body, tc.status, tc.code)
		}
	}
	if node.text(created.ID) != text {
		t.Fatal("a refused request changed the note")
	}
}

// State-changing requests from another site are refused; reads are not.
func TestAPICrossSiteRefused(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("CSRF", "blank")
	before := node.text(id)
	host := strings.TrimPrefix(node.url, "http://")
	refused := []map[string]string{
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "null"},
	}
	for _, h := range refused {
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/api/notes/" + string(id) + "/append", `{"text":"pwned"}`},
			{"POST", "/api/notes", `{}`},
			{"POST", "/api/notes/" + string(id) + "/shares", ``},
		} {
			code, hdr, body := request(t, r.method, node.url+r.path, "application/json", r.body, h)
			if c, _ := errorOf(t, hdr, body); code != 403 || c != scribe.EFORBIDDEN {
				t.Errorf("%s %s with %v: %d %s", r.method, r.path, h, code, c)
			}
		}
	}
	if node.text(id) != before {
		t.Fatal("a cross-site request changed the note")
	}
	var shares struct{ Shares []any }
	node.do("GET", "/api/notes/"+string(id)+"/shares", nil, &shares)
	if len(shares.Shares) != 0 {
		t.Fatal("a cross-site request created a share")
	}
	// The server's own origin is fine.
	code, _, _ := request(t, "POST", node.url+"/api/notes/"+string(id)+"/append", "application/json", `{"text":"ok"}`,
		map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"})
	if code != 200 {
		t.Fatalf("same-origin append: %d", code)
	}
	// A websocket from a foreign origin is refused before the upgrade.
	hdr := http.Header{"Origin": []string{"https://evil.example"}}
	if _, resp, err := wsDialer().Dial(wsURL(node.url, "/api/notes/"+string(id)+"/ws"), hdr); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign-origin websocket: %v", err)
	}
}

func TestAPISharesAndPages(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Board <script>alert(1)</script>", "blank")
	node.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": "**bold** <img src=x onerror=alert(1)>"}, nil)

	var a, b struct {
		Token scribe.Token
		URL   string
	}
	node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &a)
	// "Copy read-only link" again: the same unlabelled link, not a new one.
	var again struct{ Token scribe.Token }
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &again); code != 200 || again.Token != a.Token {
		t.Fatalf("second unlabelled share: %d %+v, want the first (%s)", code, again, a.Token)
	}
	node.do("POST", "/api/notes/"+string(id)+"/shares", map[string]any{"label": "for the board"}, &b)
	if !a.Token.Valid() || a.URL != node.url+"/s/"+string(a.Token) || b.Token == a.Token {
		t.Fatalf("shares = %+v, %+v", a, b)
	}
	var list struct {
		Shares []struct{ Token scribe.Token }
	}
	node.do("GET", "/api/notes/"+string(id)+"/shares", nil, &list)
	if len(list.Shares) != 2 || list.Shares[0].Token != a.Token {
		t.Fatalf("shares = %+v", list)
	}
	code, hdr, body := request(t, "GET", node.url+"/api/shares/"+string(a.Token)+"/text", "", "", nil)
	if code != 200 || string(body) != node.text(id) || hdr.Get("Scribe-Revision") != "1" {
		t.Fatalf("share text: %d %q", code, body)
	}

	// Pages: the editor, the read-only page (rendered, no raw HTML, no id),
	// the home page, a 404 page.
	code, _, body = request(t, "GET", node.url+"/n/"+string(id), "", "", nil)
	if code != 200 || !bytes.Contains(body, []byte(id)) {
		t.Fatalf("editor page: %d", code)
	}
	code, hdr, body = request(t, "GET", node.url+"/s/"+string(a.Token), "", "", nil)
	if code != 200 || bytes.Contains(body, []byte(id)) || !bytes.Contains(body, []byte("<strong>bold</strong>")) ||
		bytes.Contains(body, []byte("<img src=x")) || bytes.Contains(body, []byte("<script>alert")) {
		t.Fatalf("read-only page: %d\n%s", code, body)
	}
	if hdr.Get("Referrer-Policy") != "no-referrer" || hdr.Get("Content-Security-Policy") == "" {
		t.Fatalf("security headers missing: %v", hdr)
	}
	if code, _, body = request(t, "GET", node.url+"/", "", "", nil); code != 200 || !bytes.Contains(body, []byte(id)) {
		t.Fatalf("home: %d", code)
	}
	if code, hdr, _ = request(t, "GET", node.url+"/n/AAAAAAAAAAAAAAAAAAAAAA", "", "", nil); code != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("unknown note page: %d %v", code, hdr)
	}

	// Revoke one: it disappears from the list and stops working.
	if code, _ := node.do("DELETE", "/api/notes/"+string(id)+"/shares/"+string(a.Token), nil, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	node.do("GET", "/api/notes/"+string(id)+"/shares", nil, &list)
	if len(list.Shares) != 1 || list.Shares[0].Token != b.Token {
		t.Fatalf("after revoke: %+v", list)
	}
	for _, p := range []string{"/api/shares/" + string(a.Token), "/api/shares/" + string(a.Token) + "/text", "/s/" + string(a.Token)} {
		if code, _, _ := request(t, "GET", node.url+p, "", "", nil); code != 404 {
			t.Errorf("%s after revoke: %d", p, code)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	node := startNode(t, store, server.Limits{})
	for _, p := range []string{"/healthz", "/readyz"} {
		for _, method := range []string{"GET", "HEAD"} { // load balancers use both
			if code, _, _ := request(t, method, node.url+p, "", "", nil); code != 200 {
				t.Fatalf("%s %s: %d", method, p, code)
			}
		}
	}
	id := node.createNote("Metrics", "blank")
	e := newEditor(t, node, id, "M", 1)
	e.edit()
	e.settle(0)
	_, _, body := request(t, "GET", node.url+"/metrics", "", "", nil)
	for _, want := range []string{
		`scribe_connections{kind="edit"} 1`,
		`scribe_notes_open 1`,
		`scribe_ops_committed_total 1`,
		`scribe_commit_seconds_count 1`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// A store that is gone makes the node unready.
	_ = store.Close()
	if code, _, _ := request(t, "GET", node.url+"/readyz", "", "", nil); code != 503 {
		t.Fatalf("readyz with a closed store: %d", code)
	}
	if code, _, _ := request(t, "GET", node.url+"/healthz", "", "", nil); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	// The live session cannot go on without its store: its client is told
	// to reconnect (1011) rather than left editing into the void.
	if code := e.waitClose(); code != 1011 {
		t.Fatalf("client of a session whose store closed: close %d, want 1011", code)
	}
}
