package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
)

// A websocket session cannot claim an API idempotency key: a client whose
// session is "api-" + the key commits first, and the API append with that
// key is still written (issue 12, item 7).
func TestIdempotencyKeyNamespace(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Deploys", "blank")
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := c.hello("api-deploy-1-4-finished", "Squatter", nil)
	n := len([]rune(w.Text)) // ASCII template text: runes are code units
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": []any{n, "x"}})
	c.expect("ack")
	c.send(map[string]any{"type": "op", "rev": w.Rev + 1, "seq": 2, "op": []any{n + 1, "y"}}) // a second seq too
	c.expect("ack")

	code, _, body := request(t, "POST", node.url+"/api/notes/"+string(id)+"/append", "application/json",
		`{"text":"deploy 1.4 finished"}`, map[string]string{"Idempotency-Key": "deploy-1-4-finished"})
	if code != 200 || !bytes.Contains(body, []byte(`"revision":`+strconv.Itoa(int(w.Rev)+3))) {
		t.Fatalf("append: %d %s", code, body)
	}
	if text := node.text(id); !strings.Contains(text, "deploy 1.4 finished") {
		t.Fatalf("the append was not written: %q", text)
	}
	// The key still deduplicates API retries.
	code, _, body = request(t, "POST", node.url+"/api/notes/"+string(id)+"/append", "application/json",
		`{"text":"deploy 1.4 finished"}`, map[string]string{"Idempotency-Key": "deploy-1-4-finished"})
	if code != 200 || strings.Count(node.text(id), "deploy 1.4 finished") != 1 {
		t.Fatalf("retry: %d %s, text %q", code, body, node.text(id))
	}
}

// A share socket upgraded before its token is revoked, whose hello comes
// after, is refused and closed with 4404 (issue 12, item 6).
func TestRevokedBeforeHello(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Board", "blank")
	var sh struct{ Token string }
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &sh); code != 201 && code != 200 {
		t.Fatalf("create share: %d", code)
	}
	c := dial(t, wsURL(node.url, "/api/shares/"+sh.Token+"/ws"), nil)
	if code, _ := node.do("DELETE", "/api/notes/"+string(id)+"/shares/"+sh.Token, nil, nil); code/100 != 2 {
		t.Fatalf("revoke: %d", code)
	}
	c.send(map[string]any{"type": "hello", "protocol": 1, "session": newSession(), "name": "Late"})
	if m := c.next(); m.Type != "error" || m.Code != "ENOTFOUND" {
		t.Fatalf("hello after revocation: %+v", m)
	}
	if code := c.waitClose(); code != 4404 {
		t.Fatalf("closed with %d, want 4404", code)
	}
}

// A 1.1 MB paste into a note limited to 1 MiB goes out as one op (the
// default maxMessageBytes fits an edit that fills a note) and is refused
// whole, naming the limit: nothing of it is committed (issue 12, item 9:
// a paste split into frames left the note ending in half of it).
func TestPastePastNoteLimitRefusedWhole(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Paste", "blank")
	before := node.text(id)
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := c.hello(newSession(), "Paster", nil)
	var lim protocol.Limits
	if err := json.Unmarshal(w.Limits, &lim); err != nil {
		t.Fatalf("welcome limits %s: %v", w.Limits, err)
	}
	if lim.MaxNoteBytes != 1<<20 || lim.MaxMessageBytes < 2*lim.MaxNoteBytes {
		t.Fatalf("welcome limits %s: want maxNoteBytes 1 MiB and a message that fits an edit that fills it", w.Limits)
	}
	var b strings.Builder
	for i := 0; b.Len() < 1_100_000; i++ {
		fmt.Fprintf(&b, "line %d of a very large paste\n", i)
	}
	paste := b.String()
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": []any{len(w.Text), paste}})
	e := c.expect("error")
	if e.Code != "ETOOLARGE" || e.Seq != 1 || !strings.Contains(e.Message, "1048576") {
		t.Fatalf("paste: %+v", e)
	}
	if node.text(id) != before {
		t.Fatal("part of the paste was committed")
	}
	// The note still takes an edit that fits.
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 2, "op": []any{len(w.Text), "ok"}})
	c.expect("ack")
}
