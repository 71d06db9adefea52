package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/server"
)

// startLimited serves a server behind ConfigureHTTP with l, as scribe
// serve does.
func startLimited(t *testing.T, l server.HTTPLimits) (*testNode, string) {
	t.Helper()
	store := newBoltStore(t)
	srv, err := server.New(server.Config{Store: store, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener = server.ConfigureHTTP(hs.Config, hs.Listener, l)
	hs.Start()
	t.Cleanup(func() {
		hs.CloseClientConnections()
		_ = srv.Close()
		hs.Close()
		_ = store.Close()
	})
	return &testNode{t: t, srv: srv, ts: hs, store: store, url: hs.URL}, hs.Listener.Addr().String()
}

// trickle writes data one byte every gap and reports how long the server
// took to cut the connection (it stops reading our bytes, or answers and
// closes), or fails after limit.
func trickle(t *testing.T, addr, data string, gap, limit time.Duration) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	cut := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // ends when the server closes
		close(cut)
	}()
	for i := 0; ; i++ {
		select {
		case <-cut:
			return time.Since(start)
		case <-time.After(gap):
		}
		if time.Since(start) > limit {
			t.Fatalf("still connected after %v", limit)
		}
		_, _ = conn.Write([]byte{data[i%len(data)]})
	}
}

// Clients trickling a request's headers or body one byte every 100 ms are
// cut at the read deadlines; a websocket outlives them (issue 12, item 8).
func TestSlowRequestsCut(t *testing.T) {
	t.Parallel()
	l := server.HTTPLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 700 * time.Millisecond}
	node, addr := startLimited(t, l)
	id := node.createNote("Slow", "blank")

	if took := trickle(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 100), 100*time.Millisecond, 5*time.Second); took > 2*time.Second {
		t.Errorf("slow headers cut after %v", took)
	}
	body := fmt.Sprintf(`{"text":"%s"}`, strings.Repeat("b", 200))
	req := fmt.Sprintf("POST /api/notes/%s/append HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", id, len(body))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp := make(chan error, 1)
	go func() {
		r, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_, err = io.Copy(io.Discard, conn)
		}
		resp <- err
	}()
	for i := 0; ; i++ {
		select {
		case <-resp:
		case <-time.After(100 * time.Millisecond):
			if time.Since(start) > 5*time.Second {
				t.Fatal("slow body still held after 5 s")
			}
			_, _ = conn.Write([]byte{body[i%len(body)]})
			continue
		}
		break
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("slow body cut after %v", took)
	}
	if text := node.text(id); strings.Contains(text, "bbb") {
		t.Errorf("a cut body was appended: %q", text)
	}

	// A websocket lives on past ReadTimeout.
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := c.hello(newSession(), "Patient", nil)
	time.Sleep(2 * l.ReadTimeout)
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": []any{len(w.Text), "x"}})
	c.expect("ack")
}

// The cap refuses (closes) a peer's connection beyond MaxConnsPerPeer,
// and takes one again once a slot is free.
func TestConnsPerPeerCap(t *testing.T) {
	t.Parallel()
	_, addr := startLimited(t, server.HTTPLimits{MaxConnsPerPeer: 3})
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	get := func() int {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + addr + "/healthz")
		if err != nil {
			return 0 // refused: closed unanswered
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	// The three held connections were accepted in order; the fourth is refused.
	time.Sleep(100 * time.Millisecond)
	if code := get(); code != 0 {
		t.Fatalf("the 4th connection got %d, want it closed unanswered", code)
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for get() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("a freed slot was not reused")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
