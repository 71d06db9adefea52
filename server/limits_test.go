package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/bolt"
)

// apiCall sends one API request with headers and returns the status, the
// error code (if any) and the headers.
func apiCall(t *testing.T, base, method, path, body string, h http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e struct{ Code string }
	_ = json.Unmarshal(data, &e)
	return resp.StatusCode, e.Code, resp.Header
}

// wantLimited checks a 429 ERATELIMIT with a Retry-After of at least 1 s.
func wantLimited(t *testing.T, what string, code int, ecode string, h http.Header) {
	t.Helper()
	if code != http.StatusTooManyRequests || ecode != scribe.ERATELIMIT {
		t.Fatalf("%s: %d %s, want 429 ERATELIMIT", what, code, ecode)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q, want whole seconds >= 1", what, h.Get("Retry-After"))
	}
}

// TestCreateNoteFlood: a client that creates notes as fast as it can (the
// issue saw 1,170 in 3 s) is refused past its burst with 429 ERATELIMIT
// and Retry-After, and nothing more is created.
func TestCreateNoteFlood(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	n := startNode(t, store, server.Limits{NotesPerMinute: 5, PeerFactor: 1})
	created := 0
	for i := 0; i < 20; i++ {
		code, ecode, h := apiCall(t, n.url, "POST", "/api/notes", `{"title":"flood"}`, nil)
		if code == http.StatusCreated {
			created++
			continue
		}
		wantLimited(t, "note flood", code, ecode, h)
	}
	if created != 5 {
		t.Fatalf("created %d notes, want the burst of 5", created)
	}
	notes, err := store.ListNotes(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 5 {
		t.Fatalf("the store holds %d notes, want 5", len(notes))
	}
}

// TestRateLimitsPerPerson: two members behind one address (one NAT, one
// proxy) are limited separately; a member's API token has a bucket apart
// from the member's own.
func TestRateLimitsPerPerson(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	a, err := auth.New(context.Background(), auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"127.0.0.1/32"},
		PublicURL: "https://notes.example.com", Tokens: store, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, server.Config{Store: store, Auth: a, Logger: testLogger,
		Limits: server.Limits{NotesPerMinute: 3, AppendsPerMinute: 2}})
	ada := http.Header{"X-Forwarded-Email": {"ada@example.com"}}
	bob := http.Header{"X-Forwarded-Email": {"bob@example.com"}}
	secret, _, err := a.CreateToken(context.Background(), scribe.Person{Email: "ada@example.com", Via: scribe.ViaProxy}, "bot")
	if err != nil {
		t.Fatal(err)
	}
	bot := http.Header{"Authorization": {"Bearer " + secret}}
	create := func(h http.Header) (int, string, http.Header) {
		return apiCall(t, s.URL, "POST", "/api/notes", `{"title":"x"}`, h)
	}
	for i := 0; i < 3; i++ {
		if code, ecode, _ := create(ada); code != http.StatusCreated {
			t.Fatalf("ada's note %d: %d %s", i+1, code, ecode)
		}
	}
	code, ecode, h := create(ada)
	wantLimited(t, "ada's fourth note", code, ecode, h)
	if code, ecode, _ := create(bob); code != http.StatusCreated {
		t.Fatalf("bob, behind the same address, is limited with ada: %d %s", code, ecode)
	}
	if code, ecode, _ := create(bot); code != http.StatusCreated {
		t.Fatalf("ada's token shares her browser's bucket: %d %s", code, ecode)
	}

	// Appends: the same, per person.
	notes, err := store.ListNotes(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/notes/" + string(notes[0].ID) + "/append"
	for i := 0; i < 2; i++ {
		if code, ecode, _ := apiCall(t, s.URL, "POST", path, `{"text":"line\n"}`, ada); code != http.StatusOK {
			t.Fatalf("ada's append %d: %d %s", i+1, code, ecode)
		}
	}
	code, ecode, h = apiCall(t, s.URL, "POST", path, `{"text":"line\n"}`, ada)
	wantLimited(t, "ada's third append", code, ecode, h)
	if code, ecode, _ := apiCall(t, s.URL, "POST", path, `{"text":"line\n"}`, bob); code != http.StatusOK {
		t.Fatalf("bob's append: %d %s", code, ecode)
	}
}

// TestShareLinkCap: a note keeps at most MaxSharesPerNote live read-only
// links (the issue saw 1,086 made in 2 s); revoking one makes room.
func TestShareLinkCap(t *testing.T) {
	t.Parallel()
	n := startNode(t, newBoltStore(t), server.Limits{MaxSharesPerNote: 2})
	id := n.createNote("Shared", "blank")
	path := "/api/notes/" + string(id) + "/shares"
	var first struct{ Token scribe.Token }
	if code, _ := n.do("POST", path, map[string]string{"label": "a"}, &first); code != http.StatusCreated {
		t.Fatalf("first link: %d", code)
	}
	if code, _ := n.do("POST", path, map[string]string{"label": "b"}, nil); code != http.StatusCreated {
		t.Fatalf("second link: %d", code)
	}
	var e struct{ Code, Message string }
	if code, _ := n.do("POST", path, map[string]string{"label": "c"}, &e); code != http.StatusRequestEntityTooLarge || e.Code != scribe.ETOOLARGE {
		t.Fatalf("third link: %d %+v, want 413 ETOOLARGE", code, e)
	}
	t.Logf("refused: %s", e.Message)
	if code, _ := n.do("DELETE", path+"/"+string(first.Token), nil, nil); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if code, _ := n.do("POST", path, map[string]string{"label": "c"}, nil); code != http.StatusCreated {
		t.Fatalf("a link after a revocation: %d", code)
	}
}

// TestShareFloodLimited: links are rate limited per person too.
func TestShareFloodLimited(t *testing.T) {
	t.Parallel()
	n := startNode(t, newBoltStore(t), server.Limits{SharesPerMinute: 3, PeerFactor: 1})
	id := n.createNote("Shared", "blank")
	for i := 0; i < 3; i++ {
		if code, ecode, _ := apiCall(t, n.url, "POST", "/api/notes/"+string(id)+"/shares", `{"fresh":true}`, nil); code != http.StatusCreated {
			t.Fatalf("link %d: %d %s", i+1, code, ecode)
		}
	}
	code, ecode, h := apiCall(t, n.url, "POST", "/api/notes/"+string(id)+"/shares", `{"fresh":true}`, nil)
	wantLimited(t, "fourth link", code, ecode, h)
}

// TestHistoryBudgetRefusesEdit: an edit past the note's history budget is
// refused whole to its sender (413 ETOOLARGE naming the limit, through the
// API as through a websocket), and the note's room goes on: it is not a
// store failure that would make every client reconnect and resend.
func TestHistoryBudgetRefusesEdit(t *testing.T) {
	t.Parallel()
	st := bolt.New(t.TempDir(), bolt.Options{MaxHistoryBytes: 20_000})
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := startNode(t, st, server.Limits{AppendsPerMinute: -1})
	id := n.createNote("Budget", "blank")
	before := ""
	var e struct{ Code, Message string }
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("50 appends of 2,000 bytes fit a budget of 20,000")
		}
		before = n.text(id)
		code, _ := n.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": strings.Repeat("y", 2000)}, &e)
		if code == http.StatusOK {
			continue
		}
		if code != http.StatusRequestEntityTooLarge || e.Code != scribe.ETOOLARGE || !strings.Contains(e.Message, "20000") {
			t.Fatalf("append past the budget: %d %+v, want 413 ETOOLARGE naming 20000", code, e)
		}
		break
	}
	if got := n.text(id); got != before {
		t.Fatalf("a refused append changed the note")
	}
	// The room still serves: a client joins and is welcomed.
	c := dial(t, wsURL(n.url, "/api/notes/"+string(id)+"/ws"), nil)
	if w := c.hello(newSession(), "Ada", nil); w.Type != "welcome" {
		t.Fatalf("hello after the refusal: %+v", w)
	}
}
