package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scribe-notes/scribe"
)

var event = scribe.ExportEvent{
	Title: "Weekly sync", Date: "2026-11-24", By: "Ada Lovelace",
	URL: "https://scribe.example.com/s/ROtokenROtokenROtokenR", Path: "docs/meetings/2026-11-24-weekly-sync.md",
	Commit:    "6f1c0e4b0b5b4e8f9f5ad2a1c3e0d7b2a9e4c1f0",
	Decisions: []string{"Ship v2 on Friday", "<!channel> is not a mention"},
	ActionItems: []scribe.ExportActionItem{
		{Text: "Write the release notes", Owner: "grace", Due: "2026-12-01"},
		{Text: "Book the room", Owner: "ada", Done: true},
		{Text: "@ana fix the build", Owner: "ana"},
	},
}

// receiver is a local webhook: it answers the first failures requests with
// 500, then 200, and records every body.
type receiver struct {
	mu       sync.Mutex
	failures int
	bodies   [][]byte
	got      chan struct{}
}

func newReceiver(t *testing.T, failures int) (*receiver, *httptest.Server) {
	r := &receiver{failures: failures, got: make(chan struct{}, 10)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		fail := len(r.bodies) <= r.failures
		r.mu.Unlock()
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", req.Method, req.Header.Get("Content-Type"))
		}
		if fail {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
		r.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func open(t *testing.T, cfg Config) *Notifier {
	t.Helper()
	if cfg.Backoff == 0 {
		cfg.Backoff = 10 * time.Millisecond
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func wait(t *testing.T, r *receiver) {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got nothing")
	}
}

// counted waits until the notifier has counted a delivery's outcome: it
// does so after the receiver has answered, so right after the receiver saw
// the body the counter may not have moved yet.
func counted(t *testing.T, c prometheus.Counter, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(c) != want {
		if time.Now().After(deadline) {
			t.Fatalf("counter stayed at %v, want %v", testutil.ToFloat64(c), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDeliveredOnceWithTheFields(t *testing.T) {
	r, srv := newReceiver(t, 0)
	n := open(t, Config{Webhooks: []string{srv.URL + "/hooks/T000/B000/secret"}, CommitURL: "https://git.example.com/team/notes/commit/{sha}"})
	n.Notify(event)
	wait(t, r)
	time.Sleep(50 * time.Millisecond) // a second delivery would have arrived
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 1 {
		t.Fatalf("%d deliveries, want 1", len(r.bodies))
	}
	var b Body
	if err := json.Unmarshal(r.bodies[0], &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Meeting notes: Weekly sync (2026-11-24)",
		"• Ship v2 on Friday",
		"&lt;!channel&gt; is not a mention",
		"• Write the release notes (@grace, due 2026-12-01)",
		"• @ana fix the build\n",
		"Exported by Ada Lovelace in commit <https://git.example.com/team/notes/commit/6f1c0e4b0b5b4e8f9f5ad2a1c3e0d7b2a9e4c1f0|6f1c0e4b0b5b>",
		"<https://scribe.example.com/s/ROtokenROtokenROtokenR|Read-only note>",
	} {
		if !strings.Contains(b.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, b.Text)
		}
	}
	if strings.Contains(b.Text, "Book the room") {
		t.Errorf("a done item is listed as open:\n%s", b.Text)
	}
	if len(b.Blocks) != 4 || b.Blocks[0].Type != "header" || b.Blocks[0].Text.Text != "Meeting notes: Weekly sync (2026-11-24)" ||
		!strings.Contains(b.Blocks[2].Text.Text, "@grace") || !strings.Contains(b.Blocks[3].Elements[0].Text, "Read-only note") {
		t.Errorf("blocks = %s", r.bodies[0])
	}
	counted(t, n.sent, 1)
}

func TestRetriedUntilAccepted(t *testing.T) {
	r, srv := newReceiver(t, 2)
	n := open(t, Config{Webhooks: []string{srv.URL}})
	n.Notify(event)
	wait(t, r)
	r.mu.Lock()
	tries := len(r.bodies)
	same := bytes.Equal(r.bodies[0], r.bodies[2])
	r.mu.Unlock()
	if tries != 3 || !same {
		t.Errorf("accepted after %d tries (same body: %v), want on the third", tries, same)
	}
	counted(t, n.sent, 1)
	if f := testutil.ToFloat64(n.failed); f != 0 {
		t.Errorf("failures %v", f)
	}
}

func TestDeadReceiver(t *testing.T) {
	_, srv := newReceiver(t, 0)
	dead := srv.URL
	srv.Close() // nothing listens there any more
	var logs bytes.Buffer
	n := open(t, Config{Webhooks: []string{dead + "/secret-path"}, Attempts: 3, Queue: 1, Backoff: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := 0; i < 5; i++ {
		n.Notify(event) // never waits, even with the queue full
	}
	// With one sending and one queued, at least three were dropped by the
	// calls themselves: a Notify that waited for room in the queue would
	// have dropped none by now.
	if got := testutil.ToFloat64(n.failed); got < 3 {
		t.Errorf("failures right after Notify = %v, want at least 3 dropped at once", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(n.failed) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// One delivered for three attempts, one queued, three dropped at once;
	// the queued one fails too.
	if got := testutil.ToFloat64(n.failed); got != 5 {
		t.Errorf("failures = %v, want 5", got)
	}
	_ = n.Close()
	if !strings.Contains(logs.String(), "notification dropped") || strings.Contains(logs.String(), "secret-path") {
		t.Errorf("log:\n%s", logs.String())
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, cfg := range []Config{
		{Webhooks: []string{"ftp://x/y"}},
		{Webhooks: []string{"hooks.slack.com/x"}},
		{CommitURL: "https://git.example.com/commit/"},
		{CommitURL: "javascript:{sha}"},
	} {
		if _, err := New(cfg); scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("New(%+v) = %v, want EINVALID", cfg, err)
		}
	}
}
