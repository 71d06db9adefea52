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

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
)

// waitBound bounds every wait for something the server must send or do:
// a message, a close. It is a failure bound, not a timing assertion: on a
// quiet machine everything arrives within milliseconds, but CI runs the
// race detector on 2 cores shared with other suites, where a single
// catch-up of thousands of ops has taken more than 10 s. A test that fails
// by it hangs that long rather than passes.
const waitBound = 30 * time.Second

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
	if method == http.MethodPost || body != nil {
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
	Series   string          `json:"series"`
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

// sel returns m's selection (nil for none), failing the test when it is
// malformed.
func sel(t testing.TB, m protocol.Msg) ot.Selection {
	t.Helper()
	if len(m.Sel) == 0 {
		return nil
	}
	s, err := protocol.ParseSel(m.Sel)
	if err != nil {
		t.Fatalf("%s: bad sel %q: %v", m.Type, m.Sel, err)
	}
	return s
}

// peersOf returns a welcome's peers.
func peersOf(t testing.TB, w protocol.Msg) []protocol.Peer {
	t.Helper()
	var ps []protocol.Peer
	if len(w.Peers) > 0 {
		if err := json.Unmarshal(w.Peers, &ps); err != nil {
			t.Fatalf("welcome peers %q: %v", w.Peers, err)
		}
	}
	return ps
}

// wsClient is a raw protocol client: it sends what it is told and records
// every frame it receives, so tests can check the wire itself.
type wsClient struct {
	t         testing.TB
	conn      *websocket.Conn
	in        chan protocol.Msg
	mu        sync.Mutex
	raw       [][]byte // every frame received
	closeCh   chan struct{}
	closeCode int
	closeText string
	readErr   error // what ended the read loop
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
	return newWSClient(t, conn)
}

// newWSClient starts reading conn, which is closed when the test ends.
func newWSClient(t testing.TB, conn *websocket.Conn) *wsClient {
	c := &wsClient{t: t, conn: conn, in: make(chan protocol.Msg, 1<<16), closeCh: make(chan struct{})}
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
			c.mu.Lock()
			c.readErr = err
			if ce, ok := err.(*websocket.CloseError); ok {
				c.closeCode, c.closeText = ce.Code, ce.Text
			}
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.raw = append(c.raw, data)
		c.mu.Unlock()
		// Each frame is a fresh slice, so the messages' byte fields,
		// which point into it, stay valid.
		msgs, err := protocol.ParseFrame(data, nil, nil)
		if err != nil {
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
func (c *wsClient) next() protocol.Msg {
	c.t.Helper()
	select {
	case m, ok := <-c.in:
		if !ok {
			c.t.Fatalf("connection closed (code %d %q) while waiting for a message", c.code(), c.closeText)
		}
		return m
	case <-time.After(waitBound):
		c.t.Fatalf("no message within %v", waitBound)
	}
	return protocol.Msg{}
}

// expect skips messages until one of type typ arrives.
func (c *wsClient) expect(typ string) protocol.Msg {
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
	deadline := time.After(waitBound)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				<-c.closeCh
				return c.code()
			}
		case <-deadline:
			c.t.Fatalf("the server did not close the connection within %v", waitBound)
			return 0
		}
	}
}

func (c *wsClient) code() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

// readError returns what ended the read loop (nil while it runs).
func (c *wsClient) readError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

func (c *wsClient) rawFrames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.raw...)
}

// hello sends a hello and returns the welcome.
func (c *wsClient) hello(session, name string, rev *scribe.Revision) protocol.Msg {
	c.t.Helper()
	h := map[string]any{"type": "hello", "protocol": 1, "session": session, "name": name}
	if rev != nil {
		h["rev"] = *rev
	}
	c.send(h)
	return c.expect("welcome")
}

func newSession() string { return fmt.Sprintf("s%015x", rand.Uint64()>>4) }

// editor is a protocol client that edits like the browser does: the Go
// client's state machine (client.Machine, the twin of web/src/collab.js)
// over a raw wsClient. Anything the machine finds wrong with what the server
// sent (an ack for a seq not in flight, a gap in revisions, an op that does
// not apply, an error message) fails the test.
type editor struct {
	*wsClient
	t       testing.TB
	session string
	m       *client.Machine
	seq     uint64 // the highest seq sent
	rng     *rand.Rand
}

func newEditor(t testing.TB, node *testNode, id scribe.NoteID, name string, seed uint64) *editor {
	t.Helper()
	m := client.NewMachine(name)
	m.Want = client.EvError
	e := &editor{t: t, session: newSession(), m: m, rng: rand.New(rand.NewPCG(seed, seed*7+1))}
	e.connect(node, id)
	return e
}

// connect dials node and says hello with the machine's hello (with its
// revision once welcomed), hands it the welcome and sends what it queues
// (the in-flight op, unless the welcome's lastSeq says it was committed).
//
// A node may refuse a join for a while, as a browser sees it: when the
// store does not answer within its bound (redis.CallTimeout), or the hello
// is not read within the server's helloWait (10 s), both of which a loaded
// CI machine reaches, the upgrade is answered 503, the hello EUNAVAILABLE,
// or the connection ends before the welcome. The browser tries again with
// backoff (docs/protocol.md); so does the editor, up to connectAttempts
// times. Anything else fails the test.
func (e *editor) connect(node *testNode, id scribe.NoteID) protocol.Msg {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		w, err := e.tryConnect(node, id)
		if err == nil {
			return w
		}
		if attempt == connectAttempts {
			e.t.Fatalf("connect: %d attempts failed, the last: %v", attempt, err)
		}
		e.t.Logf("connect attempt %d: %v; trying again", attempt, err)
		e.m.Disconnected()
		time.Sleep(time.Duration(attempt) * connectBackoff) // the browser's backoff, not a wait for an event
	}
}

// The editor's connect tries at most connectAttempts times, waiting
// attempt*connectBackoff between tries.
const (
	connectAttempts = 10
	connectBackoff  = 200 * time.Millisecond
)

// tryConnect is one attempt of connect: it reports an unavailable node
// (503 before the upgrade, the connection closed before the welcome, an
// EUNAVAILABLE error) as an error to try again on, and fails the test for
// anything else.
func (e *editor) tryConnect(node *testNode, id scribe.NoteID) (protocol.Msg, error) {
	e.t.Helper()
	url := wsURL(node.url, "/api/notes/"+string(id)+"/ws")
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
			return protocol.Msg{}, fmt.Errorf("dial: %v (status 503)", err)
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	c := newWSClient(e.t, conn)
	e.wsClient = c
	c.send(protocol.EncodeHello(e.m.Hello(e.session)))
	timeout := time.After(waitBound)
	for {
		select {
		case w, ok := <-c.in:
			if !ok {
				<-c.closeCh
				return protocol.Msg{}, fmt.Errorf("connection closed before the welcome (code %d %q, %v)", c.code(), c.closeText, c.readError())
			}
			switch {
			case w.Type == "error" && w.Code == scribe.EUNAVAILABLE:
				return protocol.Msg{}, fmt.Errorf("hello: %s: %s", w.Code, w.Message)
			case w.Type == "error":
				e.t.Fatalf("hello: %s: %s", w.Code, w.Message)
			case w.Type != "welcome":
				continue
			}
			evs, err := e.m.Welcome(&w, nil)
			if err != nil {
				e.t.Fatalf("welcome: %v", err)
			}
			e.fail(evs)
			e.flush()
			return w, nil
		case <-timeout:
			e.t.Fatalf("no welcome within %v", waitBound)
		}
	}
}

// doc returns the editor's text.
func (e *editor) doc() string { return e.m.Text() }

// rev returns the editor's revision.
func (e *editor) rev() scribe.Revision { return scribe.Revision(e.m.Revision()) }

// fail fails the test for the first error the machine reported.
func (e *editor) fail(evs []client.Event) {
	e.t.Helper()
	for _, ev := range evs {
		if ev.Kind == client.EvError {
			e.t.Fatalf("%s: %v", e.m.ClientID(), ev.Err)
		}
	}
}

// flush sends what the machine queued.
func (e *editor) flush() {
	for _, o := range e.m.Outbox() {
		if o.Kind == client.OutOp {
			e.seq = max(e.seq, o.Op.Seq)
		}
		e.send(o.Append(nil))
	}
}

// handle hands one server message to the machine and sends what it queues.
func (e *editor) handle(m protocol.Msg) {
	e.t.Helper()
	evs, act := e.m.Receive([]protocol.Msg{m}, nil)
	e.fail(evs)
	if act != (client.Action{}) {
		e.t.Fatalf("after %s: the client must %+v", m.Type, act)
	}
	e.flush()
}

// edit makes a random local edit (with emoji and accents) and sends or
// buffers it.
func (e *editor) edit() {
	e.t.Helper()
	op := randomOp(e.rng, e.doc())
	if err := e.m.Edit(op, nil, false); err != nil {
		e.t.Fatalf("local op %v: %v", op, err)
	}
	e.flush()
}

// drain handles every message already received.
func (e *editor) drain() {
	e.t.Helper()
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

// settle handles messages until nothing is pending and rev reaches want.
func (e *editor) settle(want scribe.Revision) {
	e.t.Helper()
	for e.m.Pending() || e.rev() < want {
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
