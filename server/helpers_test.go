package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/redis"
)

const redisAddr = "127.0.0.1:6379"

// testLogger shows warnings and errors only.
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// testNode is one running server: the real handler on a real listener.
type testNode struct {
	t     testing.TB
	srv   *server.Server
	ts    *httptest.Server
	store scribe.Store
	url   string // http://127.0.0.1:port
}

// newBoltStore opens an embedded store in a temporary directory.
func newBoltStore(t testing.TB) scribe.Store { return servertest.OpenBolt(t, t.TempDir()) }

// redisPrefix returns a random key prefix for one test, and removes the
// test's keys when it ends.
func redisPrefix(t testing.TB) string {
	t.Helper()
	prefix := fmt.Sprintf("scribe-servertest-%d:", rand.Int64())
	t.Cleanup(func() {
		c := goredis.NewClient(&goredis.Options{Addr: redisAddr})
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// newRedisStore opens a Redis store with prefix (each node of a multi-node
// test opens its own, sharing the prefix).
func newRedisStore(t testing.TB, prefix string) scribe.Store {
	t.Helper()
	s, err := redis.New(redisAddr, redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("redis store: %v", err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("open redis store at %s (run scripts/ensure-redis.sh): %v", redisAddr, err)
	}
	return s
}

func startNode(t testing.TB, store scribe.Store, limits server.Limits) *testNode {
	t.Helper()
	s := servertest.Start(t, server.Config{Store: store, Limits: limits, Logger: testLogger})
	return &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: store, url: s.URL}
}

// do sends an API request and decodes a JSON answer into out (when not nil).
func (n *testNode) do(method, path string, body any, out any) (int, http.Header) {
	n.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.url+path, r)
	if err != nil {
		n.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode, resp.Header
}

type noteResp struct {
	ID       scribe.NoteID   `json:"id"`
	URL      string          `json:"url"`
	Title    string          `json:"title"`
	Revision scribe.Revision `json:"revision"`
}

func (n *testNode) createNote(title, template string) scribe.NoteID {
	n.t.Helper()
	var out noteResp
	code, _ := n.do("POST", "/api/notes", map[string]string{"title": title, "template": template}, &out)
	if code != http.StatusCreated || !out.ID.Valid() {
		n.t.Fatalf("create note: %d %+v", code, out)
	}
	return out.ID
}

func (n *testNode) text(id scribe.NoteID) string {
	n.t.Helper()
	d, err := n.store.LoadNote(context.Background(), id)
	if err != nil {
		n.t.Fatal(err)
	}
	return d.Text
}

// msg is one server message, decoded loosely.
type msg struct {
	Type     string          `json:"type"`
	Client   string          `json:"client"`
	Rev      scribe.Revision `json:"rev"`
	Seq      uint64          `json:"seq"`
	Text     *string         `json:"text"`
	Catchup  bool            `json:"catchup"`
	ReadOnly bool            `json:"readonly"`
	LastSeq  uint64          `json:"lastSeq"`
	Title    string          `json:"title"`
	Name     string          `json:"name"`
	Color    string          `json:"color"`
	Op       json.RawMessage `json:"op"`
	Sel      []ot.Range      `json:"sel"`
	Peers    []msg           `json:"peers"`
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Limits   map[string]any  `json:"limits"`
	ID       *int64          `json:"id"`
}

// wsClient is a raw protocol client: it sends what it is told and records
// every frame it receives, so tests can check the wire itself.
type wsClient struct {
	t         testing.TB
	conn      *websocket.Conn
	in        chan msg
	mu        sync.Mutex
	raw       [][]byte // every frame received
	closeCh   chan struct{}
	closeCode int
	closeText string
	paused    bool
	resumed   chan struct{}
}

// pause stops reading from the connection (after the read under way) until
// resume: a client that stalls.
func (c *wsClient) pause() {
	c.mu.Lock()
	c.paused = true
	c.resumed = make(chan struct{})
	c.mu.Unlock()
}

func (c *wsClient) resume() {
	c.mu.Lock()
	c.paused = false
	close(c.resumed)
	c.mu.Unlock()
}

func (c *wsClient) waitIfPaused() {
	c.mu.Lock()
	paused, ch := c.paused, c.resumed
	c.mu.Unlock()
	if paused {
		<-ch
	}
}

func wsURL(httpURL, path string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + path
}

// dial connects without saying hello.
func dial(t testing.TB, url string, header http.Header) *wsClient {
	t.Helper()
	return dialWith(t, websocket.DefaultDialer, url, header)
}

// dialSlow connects with a tiny socket receive buffer, for a client that
// stops reading.
func dialSlow(t testing.TB, url string) *wsClient {
	t.Helper()
	nd := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	d := &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 5 * time.Second}
	return dialWith(t, d, url, nil)
}

// dialRaw dials without a test client, for handshakes expected to fail.
func dialRaw(url string) (*websocket.Conn, *http.Response, error) {
	return websocket.DefaultDialer.Dial(url, nil)
}

func wsDialer() *websocket.Dialer { return websocket.DefaultDialer }

func dialWith(t testing.TB, d *websocket.Dialer, url string, header http.Header) *wsClient {
	t.Helper()
	conn, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	c := &wsClient{t: t, conn: conn, in: make(chan msg, 1<<16), closeCh: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.closeCh)
	defer close(c.in)
	for {
		c.waitIfPaused()
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				c.mu.Lock()
				c.closeCode, c.closeText = ce.Code, ce.Text
				c.mu.Unlock()
			}
			return
		}
		c.mu.Lock()
		c.raw = append(c.raw, data)
		c.mu.Unlock()
		var msgs []msg
		if err := json.Unmarshal(data, &msgs); err != nil {
			c.t.Errorf("server frame is not a JSON array of messages: %q: %v", data, err)
			return
		}
		for _, m := range msgs {
			c.in <- m
		}
	}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	case []byte:
		data = v
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next message, failing the test after a timeout.
func (c *wsClient) next() msg {
	c.t.Helper()
	select {
	case m, ok := <-c.in:
		if !ok {
			c.t.Fatalf("connection closed (code %d %q) while waiting for a message", c.code(), c.closeText)
		}
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatal("no message within 10s")
	}
	return msg{}
}

// expect skips messages until one of type typ arrives.
func (c *wsClient) expect(typ string) msg {
	c.t.Helper()
	for {
		m := c.next()
		if m.Type == typ {
			return m
		}
		if m.Type == "error" && typ != "error" {
			c.t.Fatalf("waiting for %s, got error %s: %s", typ, m.Code, m.Message)
		}
	}
}

// waitClose waits for the server to close the connection and returns the
// close code (0 when it ended without a close frame).
func (c *wsClient) waitClose() int {
	c.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				<-c.closeCh
				return c.code()
			}
		case <-deadline:
			c.t.Fatal("the server did not close the connection within 15s")
			return 0
		}
	}
}

func (c *wsClient) code() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

func (c *wsClient) rawFrames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.raw...)
}

// hello sends a hello and returns the welcome.
func (c *wsClient) hello(session, name string, rev *scribe.Revision) msg {
	c.t.Helper()
	h := map[string]any{"type": "hello", "protocol": 1, "session": session, "name": name}
	if rev != nil {
		h["rev"] = *rev
	}
	c.send(h)
	return c.expect("welcome")
}

func newSession() string { return fmt.Sprintf("s%015x", rand.Uint64()>>4) }

// editor is a protocol client that edits like the browser does (ot.js's
// client state machine): one op in flight, later edits composed into a
// buffer, remote ops transformed over both.
type editor struct {
	*wsClient
	session  string
	rev      scribe.Revision
	doc      string
	seq      uint64
	inflight *ot.Operation
	buffer   *ot.Operation
	rng      *rand.Rand
}

func newEditor(t testing.TB, node *testNode, id scribe.NoteID, name string, seed uint64) *editor {
	t.Helper()
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	e := &editor{wsClient: c, session: newSession(), rng: rand.New(rand.NewPCG(seed, seed*7+1))}
	w := c.hello(e.session, name, nil)
	if w.Text == nil {
		t.Fatal("welcome without text")
	}
	e.rev, e.doc = w.Rev, *w.Text
	return e
}

// handle applies one server message to the editor's state.
func (e *editor) handle(m msg) {
	t := e.t
	t.Helper()
	switch m.Type {
	case "ack":
		if e.inflight == nil || m.Seq != e.seq {
			t.Fatalf("ack seq %d, but in flight is seq %d (%v)", m.Seq, e.seq, e.inflight != nil)
		}
		if m.Rev != e.rev+1 {
			t.Fatalf("ack for rev %d, expected %d", m.Rev, e.rev+1)
		}
		e.rev = m.Rev
		e.inflight = nil
		if e.buffer != nil {
			e.inflight, e.buffer = e.buffer, nil
			e.sendInflight()
		}
	case "op":
		if m.Rev != e.rev+1 {
			t.Fatalf("op for rev %d, expected %d", m.Rev, e.rev+1)
		}
		op, err := ot.ParseJSON(m.Op)
		if err != nil {
			t.Fatalf("server op: %v", err)
		}
		if e.inflight != nil {
			a, b, err := ot.Transform(*e.inflight, op)
			if err != nil {
				t.Fatal(err)
			}
			e.inflight, op = &a, b
		}
		if e.buffer != nil {
			a, b, err := ot.Transform(*e.buffer, op)
			if err != nil {
				t.Fatal(err)
			}
			e.buffer, op = &a, b
		}
		if e.doc, err = ot.Apply(e.doc, op); err != nil {
			t.Fatalf("apply remote op: %v", err)
		}
		e.rev = m.Rev
	case "error":
		t.Fatalf("error from server: %s: %s", m.Code, m.Message)
	}
}

func (e *editor) sendInflight() {
	e.seq++
	e.send(map[string]any{"type": "op", "rev": e.rev, "seq": e.seq, "op": e.inflight})
}

// edit makes a random local edit (with emoji and accents) and sends or
// buffers it.
func (e *editor) edit() {
	e.t.Helper()
	op := randomOp(e.rng, e.doc)
	var err error
	if e.doc, err = ot.Apply(e.doc, op); err != nil {
		e.t.Fatalf("apply local op %v: %v", op, err)
	}
	switch {
	case e.inflight == nil:
		e.inflight = &op
		e.sendInflight()
	case e.buffer == nil:
		e.buffer = &op
	default:
		c, err := ot.Compose(*e.buffer, op)
		if err != nil {
			e.t.Fatal(err)
		}
		e.buffer = &c
	}
}

// drain handles every message already received.
func (e *editor) drain() {
	for {
		select {
		case m, ok := <-e.in:
			if !ok {
				e.t.Fatalf("connection closed (code %d)", e.code())
			}
			e.handle(m)
		default:
			return
		}
	}
}

// settle handles messages until nothing is in flight and rev reaches want.
func (e *editor) settle(want scribe.Revision) {
	e.t.Helper()
	for e.inflight != nil || e.buffer != nil || e.rev < want {
		e.handle(e.next())
	}
}

var pieces = []string{"a", "b", "é", "😀", "👩‍💻", " ", "\n", "xyz", "ß", "中"}

// randomOp returns a random edit of doc that never splits a character.
func randomOp(rng *rand.Rand, doc string) ot.Operation {
	// Offsets of character boundaries in UTF-16 units.
	bounds := []int{0}
	n := 0
	for _, r := range doc {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		bounds = append(bounds, n)
	}
	b := ot.NewBuilder()
	pos := bounds[rng.IntN(len(bounds))]
	if pos > 0 {
		b.Retain(pos)
	}
	rest := n - pos
	if rng.IntN(3) == 0 && rest > 0 {
		// delete up to 3 characters after pos
		end := pos
		for i, bd := range bounds {
			if bd == pos {
				end = bounds[min(i+1+rng.IntN(3), len(bounds)-1)]
				break
			}
		}
		b.Delete(end - pos)
		rest -= end - pos
	} else {
		var s strings.Builder
		for i := 0; i <= rng.IntN(3); i++ {
			s.WriteString(pieces[rng.IntN(len(pieces))])
		}
		b.Insert(s.String())
	}
	if rest > 0 {
		b.Retain(rest)
	}
	op, err := b.Build()
	if err != nil {
		panic(err)
	}
	return op
}

func revPtr(r scribe.Revision) *scribe.Revision { return &r }

func mustOp(t testing.TB, items ...any) ot.Operation {
	t.Helper()
	op, err := ot.New(items...)
	if err != nil {
		t.Fatalf("ot.New(%v): %v", items, err)
	}
	return op
}

func newListener(t testing.TB, srv *server.Server) *httptest.Server {
	t.Helper()
	if err := srv.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return httptest.NewServer(srv.Handler())
}

func createNoteDirect(t testing.TB, ts *httptest.Server, title string) scribe.NoteID {
	t.Helper()
	resp, err := http.Post(ts.URL+"/api/notes", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out noteResp
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.ID.Valid() {
		t.Fatalf("create note: %d %v", resp.StatusCode, err)
	}
	return out.ID
}
