package server_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
)

// expectPong skips presence until the next message, which must be a pong.
func expectPong(t *testing.T, c *wsClient) protocol.Msg {
	t.Helper()
	m := nextNonPresence(c)
	if m.Type != "pong" {
		t.Fatalf("want a pong, got %+v", m)
	}
	return m
}

// An application-level ping is answered with a pong carrying its id, on an
// edit link and on a read-only link alike; a bad id is refused.
func TestPing(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Heartbeat", "blank")

	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	c.send(map[string]any{"type": "ping", "id": 1})
	if e := c.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("ping before hello: %+v", e)
	}
	c.hello(newSession(), "Pinger", nil)
	c.send(map[string]any{"type": "ping", "id": 42})
	if m := expectPong(t, c); !m.HasID || m.ID != 42 {
		t.Fatalf("pong for id 42 = %+v", m)
	}
	c.send(`{"type":"ping"}`)
	if m := expectPong(t, c); m.HasID {
		t.Fatalf("pong for a ping without id carries id %d", m.ID)
	}
	raw := c.rawFrames()
	if !bytes.Equal(raw[len(raw)-1], []byte(`[{"type":"pong"}]`)) {
		t.Fatalf("last frame = %s", raw[len(raw)-1])
	}
	c.send(`{"type":"ping","id":1.5}`)
	if e := c.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("ping with a fractional id: %+v", e)
	}

	var share struct {
		Token scribe.Token `json:"token"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &share); code != http.StatusCreated {
		t.Fatalf("create share: %d", code)
	}
	ro := dial(t, wsURL(node.url, "/api/shares/"+string(share.Token)+"/ws"), nil)
	if w := ro.hello(newSession(), "Viewer", nil); !w.ReadOnly {
		t.Fatalf("read-only welcome: %+v", w)
	}
	ro.send(map[string]any{"type": "ping", "id": 9007199254740991})
	if m := expectPong(t, ro); !m.HasID || m.ID != 9007199254740991 {
		t.Fatalf("read-only pong = %+v", m)
	}
	ro.send(map[string]any{"type": "ping", "id": int64(1) << 60})
	if e := ro.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("ping with an id beyond 2^53: %+v", e)
	}
}

// A flood of pings is throttled silently: most go unanswered, none is an
// error, and the connection keeps working.
func TestPingFlood(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Ping flood", "blank")
	n := ot.Len16(node.text(id))

	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := c.hello(newSession(), "Flooder", nil)
	const flood = 500
	for i := range flood {
		c.send(map[string]any{"type": "ping", "id": i})
	}
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": mustOp(t, n, "still here")})
	pongs := 0
	for {
		m := nextNonPresence(c)
		if m.Type == "ack" {
			break
		}
		if m.Type != "pong" {
			t.Fatalf("during a ping flood: %+v", m)
		}
		pongs++
	}
	// Every ping within the burst is answered; the flood as a whole is not.
	if pongs < 5 || pongs >= flood {
		t.Fatalf("%d of %d pings answered", pongs, flood)
	}
	if got := node.text(id); got != "# Ping flood\n\nstill here" {
		t.Fatalf("text after the flood = %q", got)
	}
	// The bucket refills: a ping a moment later is answered again.
	time.Sleep(600 * time.Millisecond)
	c.send(map[string]any{"type": "ping", "id": 7})
	if m := expectPong(t, c); !m.HasID || m.ID != 7 {
		t.Fatalf("pong after the flood = %+v", m)
	}
	select {
	case <-c.closeCh:
		t.Fatalf("the flood closed the connection (%d)", c.code())
	default:
	}
}
