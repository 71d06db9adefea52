package server_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// chaosRounds is how many rounds of faults TestFaults injects: a few in
// `make test`, more in `make chaos` (-chaos.rounds=30).
var chaosRounds = flag.Int("chaos.rounds", 3, "rounds of faults TestFaults injects")

// cutProxy is a TCP proxy that can cut every connection through it at once,
// as a flaky network or a load balancer restart does.
type cutProxy struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, to string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, to: to, conns: make(map[net.Conn]struct{})}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close(); c.Close() }()
			go func() { _, _ = io.Copy(c, up); up.Close(); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

// cut closes every connection through the proxy.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestFaults is the short fault-injection suite: two nodes share a private
// Redis; four editors (two per node, each through a proxy that cuts its
// connections) type unique words while, round by round, the proxies cut
// every connection and Redis is killed with SIGKILL and restarted from its
// append-only file. At the end every word typed is in the note exactly
// once (acknowledged edits survive; unacknowledged ones are kept and
// resent), and every editor and the store hold the same text.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	rs := redistest.StartPrivate(t)
	var nodes []*testNode
	for i := 0; i < 2; i++ {
		st, err := redis.New(rs.URL(), redis.Options{Prefix: "faults-test:"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Open(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		nodes = append(nodes, startNode(t, st, server.Limits{}))
	}
	id := nodes[0].createNote("Faults", "blank")

	type editor struct {
		c     *client.Client
		words []string
	}
	// Every error a client reports or Change returns is kept, and printed
	// if a word goes missing: a refused edit is dropped by design (the
	// client reloads), so the failure says which code refused it.
	var errMu sync.Mutex
	var errs []string
	noteErr := func(who int, err error) {
		errMu.Lock()
		defer errMu.Unlock()
		errs = append(errs, fmt.Sprintf("e%d: %v", who, err))
	}
	var proxies []*cutProxy
	var eds []*editor
	for i := 0; i < 4; i++ {
		p := newCutProxy(t, strings.TrimPrefix(nodes[i%2].url, "http://"))
		proxies = append(proxies, p)
		c, err := client.Dial(ctx, client.NoteURL(p.url(), id), client.Options{AutoReconnect: true, Name: fmt.Sprint("e", i),
			OnError: func(err error) { noteErr(i, err) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		eds = append(eds, &editor{c: c})
	}
	typeWords := func(round int) {
		var wg sync.WaitGroup
		for i, e := range eds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 5; k++ {
					w := fmt.Sprintf("<%d.%d.%d>", i, round, k)
					e.words = append(e.words, w)
					if err := e.c.Change(func(length int, sel ot.Selection) (ot.Operation, ot.Selection) {
						op, _ := ot.NewBuilder().Retain(length).Insert(w).Build()
						return op, sel
					}); err != nil {
						noteErr(i, fmt.Errorf("typing %s: %w", w, err))
					}
					time.Sleep(15 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
	}
	for round := 0; round < *chaosRounds; round++ {
		typeWords(round)
		for _, p := range proxies {
			p.cut()
		}
		typeWords(round + 1000)
		if round%2 == 0 {
			rs.Kill()
			time.Sleep(100 * time.Millisecond)
			rs.Start()
		}
	}
	typeWords(9999)

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for i, e := range eds {
		if err := e.c.WaitSynced(wctx); err != nil {
			t.Fatalf("editor %d never committed its edits: %v", i, err)
		}
	}
	d, err := nodes[0].store.LoadNote(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range eds {
		if err := e.c.WaitRevision(wctx, int64(d.Revision)); err != nil {
			t.Fatalf("editor %d did not reach revision %d: %v", i, d.Revision, err)
		}
		if got := e.c.Text(); got != d.Text {
			t.Fatalf("editor %d holds %q, the store %q", i, got, d.Text)
		}
		for _, w := range e.words {
			if n := strings.Count(d.Text, w); n != 1 {
				t.Errorf("word %s is in the note %d times, want once", w, n)
			}
		}
	}
	if t.Failed() {
		errMu.Lock()
		t.Logf("errors the editors saw: %q", errs)
		errMu.Unlock()
	}
	t.Logf("%d rounds, %d revisions, %d bytes", *chaosRounds, d.Revision, len(d.Text))
}
