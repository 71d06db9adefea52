package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

const redisURL = "redis://127.0.0.1:6379/0"

// buildScribe builds the real binary once per test run.
var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildDir  string
)

func scribeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "scribe-bin-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "scribe")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/scribe-notes/scribe/cmd/scribe")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// node is one `scribe serve` process.
type node struct {
	name string
	url  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// startNode starts `scribe serve` on a free port with the shared Redis and
// key prefix and waits until it answers /healthz.
func startNode(t *testing.T, bin, name, prefix string) *node {
	t.Helper()
	addr := freeAddr(t)
	n := &node{name: name, url: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(bin, "serve", "--addr", addr, "--redis", redisURL, "--redis-prefix", prefix,
		"--data-dir", t.TempDir())
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			t.Logf("%s output:\n%s", n.name, n.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(n.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.done:
			t.Fatalf("%s exited at start:\n%s", name, n.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /healthz within 20s:\n%s", name, n.out.String())
		}
	}
}

// writer is one test client: it inserts unique tokens like "[c3-17]" at its
// cursor, which stays on token boundaries (tokens are only ever inserted
// whole, never deleted).
type writer struct {
	id     int
	c      *client.Client
	rnd    *rand.Rand
	mu     sync.Mutex
	tokens []string // every token this client typed
	drops  atomic.Int64
}

func (w *writer) typeToken(t *testing.T) {
	w.mu.Lock()
	tok := fmt.Sprintf("[c%d-%d]", w.id, len(w.tokens))
	w.mu.Unlock()
	jump := w.rnd.IntN(10)
	err := w.c.Change(func(n int, sel ot.Selection) (ot.Operation, ot.Selection) {
		pos := n
		if len(sel) > 0 {
			pos = min(sel[0].Head, n)
		}
		switch jump {
		case 0:
			pos = 0
		case 1:
			pos = n
		}
		op, _ := ot.NewBuilder().Retain(pos).Insert(tok).Retain(n - pos).Build()
		end := pos + len(tok)
		return op, ot.Selection{{Anchor: end, Head: end}}
	})
	if err != nil {
		t.Errorf("client %d: edit: %v", w.id, err)
		return
	}
	w.mu.Lock()
	w.tokens = append(w.tokens, tok)
	w.mu.Unlock()
}

// TestThreeNodes runs three `scribe serve` processes on one Redis: clients
// spread across them edit one note together, see each other's presence,
// and converge. One node is killed (SIGKILL) mid-edit; its clients
// reconnect to the others, and every edit appears in the final text
// exactly once: none lost, none doubled.
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three servers; skipped with -short")
	}
	bin := scribeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	prefix := fmt.Sprintf("scribe-test-%d-%d:", os.Getpid(), rand.Int64())
	t.Cleanup(func() { redistest.DropPrefix(t, prefix) })
	store, err := redis.New(redisURL, redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Ping(ctx); err != nil {
		t.Fatalf("Redis at %s is needed (make deps starts it): %v", redisURL, err)
	}
	note, err := store.CreateNote(ctx, scribe.NewNote{Title: "Three nodes", Text: "# Three nodes\n"})
	if err != nil {
		t.Fatal(err)
	}

	nodes := []*node{
		startNode(t, bin, "node0", prefix),
		startNode(t, bin, "node1", prefix),
		startNode(t, bin, "node2", prefix),
	}
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = client.NoteURL(n.url, note.ID)
	}

	// Two writers per node. Automatic reconnects try every node in turn.
	const perNode = 2
	var resyncs atomic.Int64
	var writers []*writer
	for i := 0; i < perNode*len(nodes); i++ {
		w := &writer{id: i, rnd: rand.New(rand.NewPCG(uint64(i), 7))}
		home := i % len(nodes)
		rotation := append(append([]string{}, urls[home+1:]...), urls[:home+1]...)
		c, err := client.Dial(ctx, urls[home], client.Options{
			Name:          fmt.Sprintf("w%d", i),
			AutoReconnect: true,
			ReconnectURLs: rotation,
			OnStatus: func(s client.Status) {
				if s == client.Disconnected {
					w.drops.Add(1)
				}
			},
			OnError: func(err error) {
				var re *client.ResyncError
				if errors.As(err, &re) {
					resyncs.Add(1)
					t.Errorf("client %d discarded edits: %v", i, err)
				}
			},
		})
		if err != nil {
			t.Fatalf("client %d on node%d: %v", i, home, err)
		}
		w.c = c
		defer c.Close()
		writers = append(writers, w)
	}

	// Presence crosses nodes: a selection made on node0 is seen on node1
	// and node2, and every client lists the others, wherever they are.
	if err := writers[0].c.Select(ot.Selection{{Anchor: 2, Head: 7}}); err != nil {
		t.Fatal(err)
	}
	for _, w := range writers[1:] {
		waitFor(t, ctx, fmt.Sprintf("client %d to see client 0's selection", w.id), func() bool {
			for _, p := range w.c.Peers() {
				if p.Client == writers[0].c.ClientID() && len(p.Sel) == 1 && p.Sel[0] == (ot.Range{Anchor: 2, Head: 7}) {
					return true
				}
			}
			return false
		})
		waitFor(t, ctx, fmt.Sprintf("client %d to list every other client", w.id), func() bool {
			return len(w.c.Peers()) >= len(writers)-1
		})
	}

	// Everyone types (a token every ~25 ms: under the default 60 ops/s per
	// connection); node2 is killed a second in.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(15+w.rnd.IntN(20)) * time.Millisecond):
				}
				w.typeToken(t)
			}
		}()
	}
	time.Sleep(time.Second)
	killed := nodes[2]
	if err := killed.cmd.Process.Kill(); err != nil { // SIGKILL: no goodbye, no flush
		t.Fatal(err)
	}
	<-killed.done
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()

	// Converge: every edit acknowledged, every client at the Store's head.
	for _, w := range writers {
		if err := w.c.WaitSynced(ctx); err != nil {
			t.Fatalf("client %d: wait synced: %v", w.id, err)
		}
	}
	doc, err := store.LoadNote(ctx, note.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writers {
		if err := w.c.WaitRevision(ctx, int64(doc.Revision)); err != nil {
			t.Fatalf("client %d: wait for revision %d: %v", w.id, doc.Revision, err)
		}
		if got := w.c.Text(); got != doc.Text {
			t.Fatalf("client %d (now on %s) has\n%q\nthe Store has\n%q", w.id, w.c.ClientID(), got, doc.Text)
		}
		if w.c.Revision() != int64(doc.Revision) {
			t.Fatalf("client %d at revision %d, the Store at %d", w.id, w.c.Revision(), doc.Revision)
		}
	}
	// The surviving nodes serve the same text.
	for _, n := range nodes[:2] {
		probe, err := client.Dial(ctx, client.NoteURL(n.url, note.ID), client.Options{Name: "probe"})
		if err != nil {
			t.Fatal(err)
		}
		if probe.Text() != doc.Text || probe.Revision() != int64(doc.Revision) {
			t.Errorf("%s serves revision %d, the Store has %d (or the texts differ)", n.name, probe.Revision(), doc.Revision)
		}
		_ = probe.Close()
	}
	total := 0
	for _, w := range writers {
		for _, tok := range w.tokens {
			total++
			if n := strings.Count(doc.Text, tok); n != 1 {
				t.Errorf("token %s appears %d times in the final text", tok, n)
			}
		}
	}
	if total < 50 {
		t.Fatalf("only %d tokens were typed; the test did not exercise much", total)
	}
	// The killed node's clients lost their connection and moved on.
	for _, w := range writers {
		if w.id%len(nodes) == 2 && w.drops.Load() == 0 {
			t.Errorf("client %d of the killed node never saw its connection drop", w.id)
		}
	}
	if resyncs.Load() != 0 {
		t.Fatalf("%d resyncs discarded edits", resyncs.Load())
	}
	t.Logf("%d tokens from %d clients, %d revisions", total, len(writers), doc.Revision)
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
