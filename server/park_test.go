package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// parkedConn is a server connection upgraded as serveWS does (through a
// hijacker, so that it can park), with its client.
type parkedConn struct {
	conn *websocket.Conn
	br   *bufio.Reader
	peer *websocket.Conn
}

func newParkedConn(t *testing.T) parkedConn {
	t.Helper()
	conns := make(chan parkedConn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &hijacker{ResponseWriter: w}
		if c, err := (&websocket.Upgrader{}).Upgrade(h, r, nil); err == nil {
			conns <- parkedConn{conn: c, br: h.br}
		}
	}))
	t.Cleanup(hs.Close)
	peer, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	pc := <-conns
	t.Cleanup(func() { _ = pc.conn.Close() })
	pc.peer = peer
	if pc.br == nil || pc.br.Size() != readBufferSize {
		t.Fatalf("the hijacker's reader: %v", pc.br)
	}
	return pc
}

// A connection accepted under the per-peer cap (ConfigureHTTP, as scribe
// serve runs by default) is still a socket to the parker and the viewers'
// shared writer: without that, no connection of a capped server parked.
func TestParkThroughPeerCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := ConfigureHTTP(&http.Server{}, inner, HTTPLimits{MaxConnsPerPeer: 4})
	t.Cleanup(func() { _ = ln.Close() })
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dialed.Close() })
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, ok := conn.(*peerConn); !ok {
		t.Fatalf("accepted a %T, not the cap's wrapper", conn)
	}
	if canPark && newParker(conn, bufio.NewReader(conn), nil, nil) == nil {
		t.Error("a connection under the cap cannot park")
	}
	if canPark && rawConnOf(conn) == nil { // canPark: Linux, a unix system
		t.Error("a viewer under the cap cannot be written by the shared writer")
	}
}

// A parked connection reads its client's pongs itself, without its read
// buffer and without waking: the next message, not the pong, is what
// gorilla's reader sees, also when a pong arrives in two pieces. A
// message wakes it.
func TestParkPongsAndWake(t *testing.T) {
	t.Parallel()
	pc := newParkedConn(t)
	gorillaPongs := make(chan string, 10)
	pc.conn.SetPongHandler(func(s string) error { gorillaPongs <- s; return nil })
	type pong struct{ bufSize int }
	pongs := make(chan pong, 10)
	var p *parker
	p = newParker(pc.conn.UnderlyingConn(), pc.br, func() error {
		pongs <- pong{p.br.Size()} // the parker's own goroutine: no race
		return nil
	}, nil)
	if p == nil {
		t.Skip("connections do not park on this system")
	}
	woke := make(chan bool, 1)
	go func() { woke <- p.wait() == nil }()

	if err := pc.peer.WriteControl(websocket.PongMessage, []byte("one"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if pg := <-pongs; pg.bufSize != 0 {
		t.Fatalf("parked with a read buffer of %d bytes", pg.bufSize)
	}
	// A pong in two writes: masked (key 0), payload "two".
	frame := []byte{0x8A, 0x80 | 3, 0, 0, 0, 0, 't', 'w', 'o'}
	if _, err := pc.peer.UnderlyingConn().Write(frame[:3]); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.peer.UnderlyingConn().Write(frame[3:]); err != nil {
		t.Fatal(err)
	}
	<-pongs
	if err := pc.peer.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if !<-woke {
		t.Fatal("a message did not wake the parked connection")
	}
	if pc.br.Size() != readBufferSize {
		t.Fatalf("woke with a read buffer of %d bytes", pc.br.Size())
	}
	if _, data, err := pc.conn.ReadMessage(); err != nil || string(data) != "hello" {
		t.Fatalf("read after waking: %q, %v", data, err)
	}
	if len(gorillaPongs) != 0 {
		t.Fatalf("gorilla's reader saw %d of the parked connection's pongs", len(gorillaPongs))
	}
	if !p.idle() {
		t.Fatal("not idle after reading the only message")
	}

	// Two messages in one write: the read side reads both, parking only
	// when nothing is buffered.
	two := []byte{0x81, 0x80 | 1, 0, 0, 0, 0, 'a', 0x81, 0x80 | 1, 0, 0, 0, 0, 'b'}
	if _, err := pc.peer.UnderlyingConn().Write(two); err != nil {
		t.Fatal(err)
	}
	var got string
	for len(got) < 2 {
		if p.idle() && p.wait() != nil {
			t.Fatal("the parker failed with messages to read")
		}
		_, data, err := pc.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got += string(data)
	}
	if got != "ab" {
		t.Fatalf("read %q, want ab", got)
	}

	// The client's close frame wakes it; gorilla's reader reports it.
	go func() { woke <- p.wait() == nil }()
	if err := pc.peer.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if !<-woke {
		t.Fatal("a close frame did not wake the parked connection")
	}
	var ce *websocket.CloseError
	if _, _, err := pc.conn.ReadMessage(); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("read after the close frame: %v", err)
	}
}

// A parked connection has no goroutine: the node's poller reads its pongs
// and watches its socket, and resumes its read side, with a read buffer,
// when the client sends a message or closes, or when the server stops it
// (then it parks no more).
func TestParkInPoller(t *testing.T) {
	t.Parallel()
	pc := newParkedConn(t)
	pongs := make(chan struct{}, 10)
	resumed := make(chan int, 10)
	var p *parker
	p = newParker(pc.conn.UnderlyingConn(), pc.br, func() error {
		pongs <- struct{}{}
		return nil
	}, func() { resumed <- p.br.Size() })
	if p == nil {
		t.Skip("connections do not park on this system")
	}
	inPoller := func() bool {
		pl := openPoller()
		pl.mu.Lock()
		defer pl.mu.Unlock()
		return p.token != 0 && pl.parked[p.token] == p
	}
	if !p.park() {
		t.Fatal("an idle connection did not park")
	}
	if !inPoller() {
		t.Fatal("parked, but not in the poller")
	}
	if pc.br.Size() != 0 {
		t.Fatalf("parked with a read buffer of %d bytes", pc.br.Size())
	}
	if err := pc.peer.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	<-pongs
	// The poller decides under its lock, which it held while it handled
	// the pong: once inPoller has the lock, the decision is made.
	if !inPoller() {
		t.Fatal("a pong resumed the parked connection")
	}
	if err := pc.peer.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if size := <-resumed; size != readBufferSize {
		t.Fatalf("resumed with a read buffer of %d bytes", size)
	}
	if inPoller() {
		t.Fatal("resumed, and still in the poller")
	}
	if _, data, err := pc.conn.ReadMessage(); err != nil || string(data) != "hello" {
		t.Fatalf("read after resuming: %q, %v", data, err)
	}

	// A message already in the socket: park declines.
	if err := pc.peer.WriteMessage(websocket.TextMessage, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(); err != nil {
		t.Fatalf("wait with a message coming: %v", err)
	}
	if p.park() {
		t.Fatal("parked with a message in the socket")
	}
	if _, data, err := pc.conn.ReadMessage(); err != nil || string(data) != "again" {
		t.Fatalf("read: %q, %v", data, err)
	}

	// stop resumes a parked connection, which parks no more; wake, on a
	// connection that is not parked, does nothing.
	if !p.park() {
		t.Fatal("the connection did not park again")
	}
	p.stop()
	if size := <-resumed; size != readBufferSize {
		t.Fatalf("stopped, resumed with a read buffer of %d bytes", size)
	}
	p.wake()
	if p.park() {
		t.Fatal("a stopped connection parked")
	}
	if len(resumed) != 0 {
		t.Fatalf("%d more resumes", len(resumed))
	}

	// The client's end resumes a parked connection; the read reports it.
	pc2 := newParkedConn(t)
	var p2 *parker
	resumed2 := make(chan struct{}, 1)
	p2 = newParker(pc2.conn.UnderlyingConn(), pc2.br, func() error { return nil }, func() { resumed2 <- struct{}{} })
	if !p2.park() {
		t.Fatal("the second connection did not park")
	}
	_ = pc2.peer.Close()
	<-resumed2
	if _, _, err := pc2.conn.ReadMessage(); err == nil {
		t.Fatal("read a message from a closed client")
	}
}

// A parked connection ends at its read deadline, as a read would (a
// client silent for pongWait is dropped), and when it is closed.
func TestParkDeadlineAndClose(t *testing.T) {
	t.Parallel()
	pc := newParkedConn(t)
	p := newParker(pc.conn.UnderlyingConn(), pc.br, func() error { return nil }, nil)
	if p == nil {
		t.Skip("connections do not park on this system")
	}
	if err := pc.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if p.wait() == nil {
		t.Fatal("the parked connection outlived its read deadline")
	}
	if pc.br.Size() != readBufferSize {
		t.Fatalf("after the deadline the read buffer has %d bytes", pc.br.Size())
	}

	pc2 := newParkedConn(t)
	p2 := newParker(pc2.conn.UnderlyingConn(), pc2.br, func() error { return nil }, nil)
	woke := make(chan bool, 1)
	go func() { woke <- p2.wait() == nil }()
	_ = pc2.conn.Close()
	if <-woke {
		t.Fatal("the parked connection survived its close")
	}
}

// A parked connection has no read deadline running: the pinger's tick
// wakes it once its client has been silent for pongWait, and its read side
// (rest) then ends it, as the read pump's deadline did; a client heard from
// since stays parked.
func TestParkedSilentClientDropped(t *testing.T) {
	t.Parallel()
	pc := newParkedConn(t)
	c := &client{conn: pc.conn, closing: make(chan struct{}), readDone: make(chan struct{})}
	c.out = newOutbox(1<<10, func() {}) // held: the ping is marked, no pump starts
	rested := make(chan bool, 1)
	c.park = newParker(pc.conn.UnderlyingConn(), pc.br, c.hear, func() {
		ok, parked := c.rest()
		rested <- ok || parked
	})
	if c.park == nil {
		t.Skip("connections do not park on this system")
	}
	inPoller := func() bool {
		pl := openPoller()
		pl.mu.Lock()
		defer pl.mu.Unlock()
		return c.park.token != 0
	}

	_ = c.hear() // heard just now
	if !c.park.park() {
		t.Fatal("did not park")
	}
	c.tick()
	if !inPoller() || len(rested) != 0 {
		t.Fatal("the tick woke a connection whose client was heard just now")
	}
	if d := c.nextTick(); d != pingPeriod {
		t.Fatalf("next tick in %v, want %v", d, pingPeriod)
	}

	// Silent for pongWait, less a second: the next tick comes at the
	// deadline, not a ping period later.
	c.heard.Store(time.Now().Add(-pongWait + time.Second).UnixNano())
	if d := c.nextTick(); d <= 0 || d > time.Second {
		t.Fatalf("next tick in %v, want the deadline (under 1s)", d)
	}
	c.heard.Store(time.Now().Add(-pongWait).UnixNano())
	c.tick()
	if <-rested {
		t.Fatal("a client silent for pongWait was not dropped")
	}
	if inPoller() {
		t.Fatal("still parked")
	}
}
