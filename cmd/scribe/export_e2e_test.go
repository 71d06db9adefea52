package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/export"
)

// startServe runs the real `scribe serve` on 127.0.0.1:0 with the embedded
// store and exports to repo, and returns its base URL.
func startServe(t *testing.T, repo string, opts ...func(*serveConfig)) string {
	// Local mode: the local person is the exporter (not a body field).
	return startServeAuth(t, repo, authFlags{mode: "none", localName: "Ada Lovelace", localEmail: "ada@example.com"}, "", opts...)
}

// startServeAuth is startServe with a sign-in mode and public URL.
func startServeAuth(t *testing.T, repo string, af authFlags, publicURL string, opts ...func(*serveConfig)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := serveConfig{
		addr:      "127.0.0.1:0",
		store:     storeConfig{dataDir: t.TempDir()},
		logLevel:  "error",
		logFormat: "text",
		auth:      af,
		publicURL: publicURL,
		export: &exportConfig{
			repo: repo, dir: export.DefaultDir, branch: export.DefaultBranch,
			timezone: "Europe/Berlin", emailDomain: "example.com",
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

// api sends a JSON request and decodes the JSON answer into out.
func api(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	return apiAs(t, "", method, url, body, out)
}

// apiAs is api as the member with that email, named by a trusted proxy's
// X-Forwarded-Email header ("" sends none).
func apiAs(t *testing.T, email, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if email != "" {
		req.Header.Set("X-Forwarded-Email", email)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, url, err, data)
		}
	}
	return resp.StatusCode
}

func TestExportThroughRunningServer(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "team-docs")
	base := startServe(t, repo)

	var note struct {
		ID scribe.NoteID `json:"id"`
	}
	if code := api(t, "POST", base+"/api/notes", map[string]string{"title": "Release planning"}, &note); code != http.StatusCreated {
		t.Fatalf("create note: %d", code)
	}
	for _, a := range []struct{ who, text string }{
		{"Grace Hopper", "\n## Decisions\n- Ship <script>alert(1)</script> on Friday\n"},
		{"Linus", "\n- [ ] Tag the release @linus due 2026-12-01\n"},
	} {
		if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/append", map[string]string{"text": a.text, "author": a.who}, nil); code != http.StatusOK {
			t.Fatalf("append: %d", code)
		}
	}

	// The API, as the editor's Export button calls it. The author is the
	// local person (--local-name/--local-email); a body author is ignored.
	var res scribe.ExportResult
	if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/export", map[string]string{"author": "Mallory", "email": "mallory@evil.example"}, &res); code != http.StatusOK {
		t.Fatalf("export: %d %+v", code, res)
	}
	if !strings.HasPrefix(res.Path, "docs/meetings/") || res.Commit != gitOut(t, repo, "rev-parse", "HEAD") {
		t.Errorf("export result %+v", res)
	}
	// In local mode nobody's email is known from sign-in: the names the
	// API was given are named in the body, without trailers.
	if got := gitOut(t, repo, "log", "-1", "--format=%an <%ae>|%(trailers:key=Co-authored-by,valueonly,separator=%x2C)"); got != "Ada Lovelace <ada@example.com>|" {
		t.Errorf("author|co-authors = %q", got)
	}
	if msg := gitOut(t, repo, "log", "-1", "--format=%B"); !strings.Contains(msg, "Guest editors (names not verified): Grace Hopper, Linus.") {
		t.Errorf("message:\n%s", msg)
	}
	file := gitOut(t, repo, "show", "HEAD:"+res.Path)
	var shares struct {
		Shares []struct {
			Token string `json:"token"`
			Label string `json:"label"`
		} `json:"shares"`
	}
	if code := api(t, "GET", base+"/api/notes/"+string(note.ID)+"/shares", nil, &shares); code != http.StatusOK || len(shares.Shares) != 1 || shares.Shares[0].Label != "export" {
		t.Fatalf("shares after the export: %d %+v, want one labelled export", code, shares)
	}
	msg := gitOut(t, repo, "log", "-1", "--format=%B")
	if strings.Contains(file, string(note.ID)) || strings.Contains(msg, string(note.ID)) {
		t.Errorf("the export carries the edit link:\n%s\n%s", file, msg)
	}
	if !strings.Contains(file, `url: "`+base+`/s/`+shares.Shares[0].Token+`"`) || !strings.Contains(msg, base+"/s/"+shares.Shares[0].Token) || !strings.Contains(file, `owner: "linus"`) {
		t.Errorf("exported file:\n%s", file)
	}

	// scribe export --server, while the server holds the embedded store.
	var out bytes.Buffer
	if err := runExportTo(context.Background(), []string{"--server", base, "--author", "Ada Lovelace", string(note.ID)}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Unchanged since the last export: "+res.Path) {
		t.Errorf("scribe export --server printed %q", out.String())
	}
	if got := gitOut(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("%s commits, want 1", got)
	}

	// A read-only link cannot export: its token is not a note id, and the
	// share routes have no export.
	var share struct {
		Token string `json:"token"`
	}
	if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/shares", struct{}{}, &share); code != http.StatusCreated {
		t.Fatalf("create share: %d", code)
	}
	var apiErr struct{ Code string }
	if code := api(t, "POST", base+"/api/notes/"+share.Token+"/export", map[string]string{"author": "Mallory"}, &apiErr); code != http.StatusNotFound || apiErr.Code != scribe.ENOTFOUND {
		t.Errorf("export with a share token: %d %+v", code, apiErr)
	}
	if code := api(t, "POST", base+"/api/shares/"+share.Token+"/export", map[string]string{"author": "Mallory"}, nil); code < 400 {
		t.Errorf("export through the share route answered %d", code)
	}
	if got := gitOut(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("a read-only token made a commit")
	}

	// The .html download is markdown.Page: no raw HTML from the note.
	resp, err := http.Get(base + "/api/notes/" + string(note.ID) + "/download.html")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(page), "<script") || !strings.Contains(string(page), "Content-Security-Policy") {
		t.Errorf("download.html (%d):\n%s", resp.StatusCode, page)
	}
	fsck := gitOut(t, repo, "fsck", "--strict", "--no-dangling")
	if fsck != "" {
		t.Errorf("git fsck: %s", fsck)
	}
}

// With sign-in on, the export's author and trailers come from identities:
// the member who exports is the author whatever the body says, members who
// edited are Co-authored-by, and a guest is named in the body only.
func TestExportWithAuthIdentities(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "team-docs")
	base := startServeAuth(t, repo, authFlags{
		mode: "proxy", trustedProxies: "127.0.0.1/32",
		emailHeader: "X-Forwarded-Email", nameHeader: "X-Forwarded-User",
	}, "https://notes.example.com")
	const ada, grace = "ada@example.com", "grace@example.com"

	var note struct {
		ID scribe.NoteID `json:"id"`
	}
	if code := apiAs(t, ada, "POST", base+"/api/notes", map[string]string{"title": "Design review"}, &note); code != http.StatusCreated {
		t.Fatalf("create note: %d", code)
	}
	on := true
	if code := apiAs(t, ada, "PATCH", base+"/api/notes/"+string(note.ID), map[string]any{"guestEdit": on}, nil); code != http.StatusOK {
		t.Fatalf("guest editing on: %d", code)
	}
	for _, a := range []struct{ email, author, text string }{
		{grace, "Mallory", "\n## Decisions\n- Ship on Friday\n"}, // a member's body author is ignored
		{"", "Zed the guest", "\n- [ ] Tag it @zed\n"},           // a guest names itself
		{ada, "", "\nThanks all.\n"},
	} {
		if code := apiAs(t, a.email, "POST", base+"/api/notes/"+string(note.ID)+"/append", map[string]string{"text": a.text, "author": a.author}, nil); code != http.StatusOK {
			t.Fatalf("append as %q: %d", a.email, code)
		}
	}
	// A stranger (the guest) may not export; the member may, and a body
	// author and email change nothing.
	if code := apiAs(t, "", "POST", base+"/api/notes/"+string(note.ID)+"/export", map[string]string{"author": "Mallory"}, nil); code != http.StatusForbidden {
		t.Errorf("a guest exported: %d", code)
	}
	var res scribe.ExportResult
	if code := apiAs(t, ada, "POST", base+"/api/notes/"+string(note.ID)+"/export", map[string]string{"author": "Mallory", "email": "mallory@evil.example"}, &res); code != http.StatusOK {
		t.Fatalf("export: %d %+v", code, res)
	}
	got := gitOut(t, repo, "log", "-1", "--format=%an <%ae>|%(trailers:key=Co-authored-by,valueonly,separator=%x2C)")
	if got != "ada <ada@example.com>|grace <grace@example.com>" {
		t.Errorf("author|co-authors = %q", got)
	}
	msg := gitOut(t, repo, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "Guest editors (names not verified): Zed the guest.") || strings.Contains(msg, "Mallory") {
		t.Errorf("message:\n%s", msg)
	}
	// The file links to the export's read-only link on --public-url, never
	// to the edit link.
	if file := gitOut(t, repo, "show", "HEAD:"+res.Path); !strings.Contains(file, `url: "https://notes.example.com/s/`) || strings.Contains(file, string(note.ID)) {
		t.Errorf("exported file:\n%s", file)
	}
}

// TestExportNotifiesChat: with --notify-webhook, each export commit is
// POSTed once to the chat webhook with the meeting's fields and links; a
// dead webhook beside it does not delay the export.
func TestExportNotifiesChat(t *testing.T) {
	bodies := make(chan []byte, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer receiver.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	repo := filepath.Join(t.TempDir(), "team-docs")
	base := startServe(t, repo, func(c *serveConfig) {
		_ = c.notifyWebhooks.Set(receiver.URL + "/hooks/secret," + dead.URL + "/hooks/gone")
		c.commitURL = "https://git.example.com/team/notes/commit/{sha}"
	})
	var note struct {
		ID scribe.NoteID `json:"id"`
	}
	if code := api(t, "POST", base+"/api/notes", map[string]string{"title": "Release planning", "template": "blank"}, &note); code != http.StatusCreated {
		t.Fatalf("create note: %d", code)
	}
	text := "\n## Decisions\n- Ship on Friday\n\n## Action items\n- [ ] Tag the release @linus due 2026-12-01\n- [x] Book the room @ada\n"
	if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/append", map[string]string{"text": text}, nil); code != http.StatusOK {
		t.Fatalf("append: %d", code)
	}
	var res scribe.ExportResult
	start := time.Now()
	if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/export", struct{}{}, &res); code != http.StatusOK {
		t.Fatalf("export: %d", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the export took %v with a dead webhook configured", d)
	}
	var body struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	select {
	case b := <-bodies:
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook got nothing")
	}
	for _, want := range []string{
		"Release planning (", "• Ship on Friday", "• Tag the release (@linus, due 2026-12-01)",
		"<https://git.example.com/team/notes/commit/" + res.Commit + "|" + res.Commit[:12] + ">",
		"|Read-only note>", base + "/s/",
	} {
		if !strings.Contains(body.Text, want) {
			t.Errorf("notification lacks %q:\n%s", want, body.Text)
		}
	}
	if strings.Contains(body.Text, string(note.ID)) || strings.Contains(body.Text, "Book the room") || len(body.Blocks) != 4 {
		t.Errorf("notification:\n%s\n%d blocks", body.Text, len(body.Blocks))
	}
	// An unchanged re-export makes no commit and sends nothing.
	if code := api(t, "POST", base+"/api/notes/"+string(note.ID)+"/export", struct{}{}, &res); code != http.StatusOK || !res.Unchanged {
		t.Fatalf("re-export: %d %+v", code, res)
	}
	select {
	case b := <-bodies:
		t.Errorf("a second notification: %s", b)
	case <-time.After(200 * time.Millisecond):
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "scribe_notify_sent_total 1") || !strings.Contains(string(metrics), "scribe_notify_failures_total") {
		t.Errorf("/metrics lacks the notifier's counters")
	}
}
