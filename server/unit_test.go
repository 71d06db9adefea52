package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

func TestOutboxBudget(t *testing.T) {
	t.Parallel()
	o := newOutbox(10, func() {})
	for i := range 2 {
		if !o.push([]byte("12345"), false) {
			t.Fatalf("push %d within budget refused", i)
		}
	}
	if o.isUrgent() {
		t.Fatal("urgent without an urgent message")
	}
	if o.push([]byte("1"), true) {
		t.Fatal("over budget accepted")
	}
	if o.isUrgent() {
		t.Fatal("a refused message made the queue urgent")
	}
	got := o.take(nil)
	if len(got) != 2 {
		t.Fatalf("take = %d messages", len(got))
	}
	if !o.push([]byte("1"), true) || !o.isUrgent() {
		t.Fatal("budget not freed by take, or an urgent message not noted")
	}
	o.pushAll([][]byte{[]byte("0123456789abc")}) // the welcome goes in whatever its size
	if msgs := o.take(got); len(msgs) != 2 || string(msgs[0]) != "1" || o.isUrgent() {
		t.Fatal("pushAll lost messages, or take kept the urgency")
	}
	o.close(true)
	if o.push([]byte("x"), true) || len(o.take(nil)) != 0 {
		t.Fatal("closed outbox accepted or kept messages")
	}
}

// A write pump runs only while there is something to write: the outbox
// starts one for the first message after it ended (never two), wakes a
// running one only for an urgent message, and starts one for a due ping
// and to finish a closing connection.
func TestOutboxPump(t *testing.T) {
	t.Parallel()
	starts := 0
	o := newOutbox(1<<10, func() { starts++ })
	woken := func() bool {
		select {
		case <-o.wake:
			return true
		default:
			return false
		}
	}
	o.pushAll([][]byte{[]byte("welcome")})
	if starts != 0 {
		t.Fatal("a pump started before the connection joined (the outbox starts held)")
	}
	woken() // the welcome is urgent; the first pump looks at the queue anyway
	if o.next() != pumpWrite || len(o.take(nil)) != 1 {
		t.Fatal("the first pump found nothing to write")
	}
	if o.next() != pumpEnd {
		t.Fatal("an empty outbox kept its pump")
	}
	o.push([]byte("a"), false)
	o.push([]byte("b"), false)
	if starts != 1 || woken() {
		t.Fatalf("two pushes to an idle connection: %d pumps started, want 1 (and no wake)", starts)
	}
	o.take(nil) // a frame is written; the pump rests
	o.push([]byte("c"), false)
	if woken() {
		t.Fatal("resting pump woken for someone else's op")
	}
	o.push([]byte("d"), true)
	if !woken() || !o.isUrgent() || starts != 1 {
		t.Fatal("resting pump not woken for an urgent message (or another pump started)")
	}
	o.take(nil)
	if o.next() != pumpEnd {
		t.Fatal("an empty outbox kept its pump")
	}
	o.pingDue()
	if starts != 2 || o.next() != pumpWrite || !o.takePing() || o.takePing() {
		t.Fatal("a due ping did not start a pump, or was taken twice")
	}
	if o.next() != pumpEnd {
		t.Fatal("an empty outbox kept its pump")
	}
	o.close(false)
	if starts != 3 || o.next() != pumpClose {
		t.Fatal("a closing connection got no pump to finish it")
	}
	o.pingDue()
	if o.push([]byte("e"), true) || starts != 3 || o.takePing() {
		t.Fatal("a closed outbox accepted a message or a ping, or started another pump")
	}
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	b := newTokenBucket(1, 3)
	for i := range 3 {
		if !b.allow() {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if b.allow() {
		t.Fatal("beyond the burst allowed")
	}
	b.last = b.last.Add(-2 * time.Second) // two seconds pass
	for i := range 2 {
		if !b.allow() {
			t.Fatalf("refilled token %d refused: refill after 2 s at 1/s is not 2 tokens", i)
		}
	}
	if b.allow() {
		t.Fatal("a third token after 2 s at 1/s")
	}
	unlimited := newTokenBucket(0, 0)
	for range 100 {
		if !unlimited.allow() {
			t.Fatal("a zero rate limited")
		}
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	cases := map[string]string{
		"Standup":                       "2026-11-24-standup.md",
		"Release 1.4 — Go/No-go!":       "2026-11-24-release-1-4-go-no-go.md",
		`../../etc/passwd"; x=`:         "2026-11-24-etc-passwd-x.md",
		"😀😀":                            "2026-11-24-note.md",
		"":                              "2026-11-24-note.md",
		strings.Repeat("abcdefghij", 9): "2026-11-24-" + strings.Repeat("abcdefghij", 8) + ".md",
	}
	for title, want := range cases {
		if got := fileName(title, day, ".md"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", title, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		scribe.EINVALID: 400, scribe.EFORBIDDEN: 403, scribe.ENOTFOUND: 404, scribe.ECONFLICT: 409,
		scribe.ETOOLARGE: 413, scribe.ERATELIMIT: 429, scribe.EUNAVAILABLE: 503, scribe.EINTERNAL: 500, "EWHATEVER": 500,
	}
	for code, status := range want {
		if got := statusOf(code); got != status {
			t.Errorf("statusOf(%s) = %d, want %d", code, got, status)
		}
	}
}

// An idle connection has no write pump: a due ping starts one, the peer
// gets the ping, and the pump ends again; closing starts the last one,
// which sends the close frame.
func TestWritePumpOnDemand(t *testing.T) {
	t.Parallel()
	conns := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil); err == nil {
			conns <- c
		}
	}))
	defer hs.Close()
	peer, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	pinged := make(chan struct{}, 1)
	peer.SetPingHandler(func(string) error { pinged <- struct{}{}; return nil })
	closed := make(chan int, 1)
	go func() {
		for {
			if _, _, err := peer.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					closed <- ce.Code
				}
				close(closed)
				return
			}
		}
	}()

	c := &client{conn: <-conns, closing: make(chan struct{}), readDone: make(chan struct{})}
	defer c.conn.Close()
	c.out = newOutbox(1<<10, c.startPump)
	c.pinger = time.AfterFunc(time.Hour, c.out.pingDue)
	defer c.pinger.Stop()
	c.startPump() // as run does: nothing is queued, so it ends
	c.pumps.Wait()
	c.out.pingDue()
	<-pinged
	c.pumps.Wait() // the ping's pump ended: the connection is idle again
	close(c.readDone)
	c.close(protocol.CloseGoingAway, "bye", true)
	c.pumps.Wait()
	if code := <-closed; code != protocol.CloseGoingAway {
		t.Fatalf("peer saw close code %d, want %d", code, protocol.CloseGoingAway)
	}
}

// TestMemberWindow: an editor's frames are spaced by coalesceWindow in a
// small meeting, by more as the note's editors grow, never by more than
// maxMemberWindow; and the node's frames a second for a note stay bounded
// (about 2,000) from 20 to 100 editors.
func TestMemberWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		editors int
		want    time.Duration
	}{
		{0, coalesceWindow},
		{1, coalesceWindow},
		{20, coalesceWindow},
		{40, 20 * time.Millisecond},
		{100, maxMemberWindow},
		{5000, maxMemberWindow},
	} {
		if got := memberWindow(tc.editors); got != tc.want {
			t.Errorf("memberWindow(%d) = %v, want %v", tc.editors, got, tc.want)
		}
	}
	prev := time.Duration(0)
	for n := 1; n <= 1000; n++ {
		w := memberWindow(n)
		if w < prev || w < coalesceWindow || w > maxMemberWindow {
			t.Fatalf("memberWindow(%d) = %v after %v: not monotonic within [%v, %v]", n, w, prev, coalesceWindow, maxMemberWindow)
		}
		if perSecond := float64(n) / w.Seconds(); n >= 20 && n <= 100 && perSecond > 2000.5 {
			t.Errorf("%d editors: %.0f frames a second, more than 2,000", n, perSecond)
		}
		prev = w
	}
}
