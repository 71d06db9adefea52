package loadtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe/ot"
)

// A typing bot holds the keystrokes typed while its op is in flight (its
// machine gets no buffer: the text's length does not move) and sends them
// as one op, a single insert at its cursor, when the ack comes.
func TestKeystrokesHeldUntilAck(t *testing.T) {
	// A server end that reads and discards what the bot sends.
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	const text = 100
	log := &refLog{}
	if err := log.welcome(0, strings.Repeat("x", text)); err != nil {
		t.Fatal(err)
	}
	c := newBenchBot(log, text, 0)
	c.ws = ws
	var built []int
	c.build = func(n, pos, k int) (ot.Operation, int) {
		built = append(built, k)
		op, _ := ot.NewBuilder().Retain(pos).Insert(strings.Repeat("a", k)).Retain(n - pos).Build()
		return op, pos + k
	}

	if err := c.keystroke(); err != nil {
		t.Fatal(err)
	}
	if !c.m.InFlight() || c.m.Len() != text+1 {
		t.Fatalf("after the first keystroke: in flight %v, length %d", c.m.InFlight(), c.m.Len())
	}
	for range 3 {
		if err := c.keystroke(); err != nil {
			t.Fatal(err)
		}
	}
	if c.held != 3 || c.m.Len() != text+1 {
		t.Fatalf("held %d, length %d: keystrokes typed during the flight went into the machine", c.held, c.m.Len())
	}
	if err := c.handleFrame([]byte(`[{"type":"ack","seq":1,"rev":1}]`), time.Now()); err != nil {
		t.Fatal(err)
	}
	if c.held != 0 || !c.m.InFlight() || c.m.Len() != text+4 || len(built) != 2 || built[1] != 3 {
		t.Fatalf("after the ack: held %d, in flight %v, length %d, built %v", c.held, c.m.InFlight(), c.m.Len(), built)
	}
}
