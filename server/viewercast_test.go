package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
)

// viewer is a read-only client following the note with the Go client's
// state machine: a gap, a repeat or an op out of order fails the test.
type viewer struct {
	*wsClient
	t       testing.TB
	session string
	m       *client.Machine
}

// newViewer joins the share's note and reads the welcome.
func newViewer(t testing.TB, node *testNode, token scribe.Token, name string) *viewer {
	t.Helper()
	v := &viewer{t: t, session: newSession(), m: client.NewMachine(name)}
	v.m.Want = client.EvError
	v.join(node, token)
	return v
}

// join dials the share, sends the machine's hello (with its revision and
// fingerprint once it has had a welcome: a catch-up) and hands it the
// welcome.
func (v *viewer) join(node *testNode, token scribe.Token) protocol.Msg {
	v.t.Helper()
	v.wsClient = dial(v.t, wsURL(node.url, "/api/shares/"+string(token)+"/ws"), nil)
	v.send(protocol.EncodeHello(v.m.Hello(v.session)))
	w := v.next()
	if w.Type != "welcome" {
		v.t.Fatalf("first message %s, want welcome", w.Type)
	}
	evs, err := v.m.Welcome(&w, nil)
	if err != nil {
		v.t.Fatalf("welcome: %v", err)
	}
	v.fail(evs)
	return w
}

func (v *viewer) fail(evs []client.Event) {
	v.t.Helper()
	for _, ev := range evs {
		if ev.Kind == client.EvError {
			v.t.Fatalf("viewer %s: %v", v.m.ClientID(), ev.Err)
		}
	}
}

// handle hands one message to the machine.
func (v *viewer) handle(m protocol.Msg) {
	v.t.Helper()
	evs, _ := v.m.Receive([]protocol.Msg{m}, nil)
	v.fail(evs)
}

// settle handles messages until the viewer is at revision want.
func (v *viewer) settle(want scribe.Revision) {
	v.t.Helper()
	for scribe.Revision(v.m.Revision()) < want {
		v.handle(v.next())
	}
}

func createShare(t testing.TB, node *testNode, id scribe.NoteID) scribe.Token {
	t.Helper()
	var share struct {
		Token scribe.Token `json:"token"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &share); code != http.StatusCreated {
		t.Fatalf("create share: %d", code)
	}
	return share.Token
}

// sharedFrames returns the server's count of frames its rooms' shared
// writers wrote whole to viewers.
func sharedFrames(t testing.TB, node *testNode) int {
	t.Helper()
	resp, err := http.Get(node.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	m := regexp.MustCompile(`(?m)^scribe_viewer_shared_frames_total\{result="whole"\} (\d+)$`).FindStringSubmatch(buf.String())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Viewers get every op, in order, through their room's shared frames: the
// ones that watched from the start, one that joined while the others typed
// (its welcome, then only what came after it), and one that came back
// with its revision (its catch-up, then the shared frames). Pings are
// answered in between, and every viewer ends with the note's text.
func TestViewersShareFrames(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{OpsPerSecond: 1e6})
	id := node.createNote("All hands", "blank")
	token := createShare(t, node, id)
	a := newEditor(t, node, id, "Ada", 1)
	b := newEditor(t, node, id, "Bo", 2)
	var viewers []*viewer
	for i := range 3 {
		viewers = append(viewers, newViewer(t, node, token, fmt.Sprintf("V%d", i)))
	}
	back := newViewer(t, node, token, "Back") // leaves, and comes back for a catch-up
	_ = back.conn.Close()
	<-back.closeCh

	for round := range 6 {
		for range 20 {
			a.edit()
			b.edit()
			a.drain()
			b.drain()
		}
		switch round {
		case 1:
			viewers = append(viewers, newViewer(t, node, token, "Late"))
		case 2:
			back.m.Disconnected()
			if w := back.join(node, token); !w.Catchup {
				t.Fatalf("the returning viewer got no catch-up: %+v", w)
			}
			viewers = append(viewers, back)
		case 3:
			viewers[0].send(map[string]any{"type": "ping", "id": 7})
		}
	}
	a.settle(0)
	b.settle(0)
	for a.rev() != b.rev() {
		a.settle(b.rev())
		b.settle(a.rev())
	}
	head := a.rev()
	want := node.text(id)
	if a.doc() != want || b.doc() != want {
		t.Fatal("the editors' text differs from the store's")
	}
	pong := false
	for i, v := range viewers {
		for scribe.Revision(v.m.Revision()) < head || (i == 0 && !pong) {
			m := v.next()
			if m.Type == "pong" && m.ID == 7 {
				pong = true
			}
			v.handle(m)
		}
		if got := v.m.Text(); got != want {
			t.Fatalf("viewer %d at revision %d has %q, want %q", i, head, got, want)
		}
	}
	if n := sharedFrames(t, node); n == 0 {
		t.Fatal("no frame was written through the shared path")
	}
}

// A viewer that stops reading holds nobody up: the editor's ops are all
// acknowledged and another viewer gets every one of them while it stalls,
// and the server drops it by the bounds of every client (its queue's
// budget, or the write deadline).
func TestStalledViewerDropped(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{SendQueueBytes: 64 << 10, OpsPerSecond: 1e6, MaxNoteBytes: 1 << 20, MaxMessageBytes: 1 << 20})
	id := node.createNote("Stall", "blank")
	token := createShare(t, node, id)
	slow := dialSlow(t, wsURL(node.url, "/api/shares/"+string(token)+"/ws"))
	slow.hello(newSession(), "Sloth", nil)
	slow.pause()
	fast := newViewer(t, node, token, "Hare")

	ed := newEditor(t, node, id, "Typist", 1)
	var rev scribe.Revision
	doc := floodPastStalled(t, ed, slow, func(i int, r scribe.Revision) {
		rev = r
		if i%50 == 0 {
			fast.settle(rev) // the other viewer keeps up while the stalled one reads nothing
		}
	})
	fast.settle(rev)
	if fast.m.Text() != doc {
		t.Fatal("the reading viewer's text differs")
	}
	checkDroppedSlow(t, node, slow, "stalled viewer")
}

// A node shutting down sends its viewers every op acknowledged before it,
// then closes them with 1001: what their note's audience still held, or
// was writing, goes out before the close frame.
func TestViewersFlushedOnShutdown(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	srv, err := server.New(server.Config{Store: store, Logger: testLogger, Limits: server.Limits{OpsPerSecond: 1e6}})
	if err != nil {
		t.Fatal(err)
	}
	ts := newListener(t, srv)
	id := createNoteDirect(t, ts, "Last words")
	node := &testNode{t: t, srv: srv, store: store, url: ts.URL}
	token := createShare(t, node, id)
	var viewers []*viewer
	for i := range 4 {
		viewers = append(viewers, newViewer(t, node, token, fmt.Sprintf("V%d", i)))
	}
	e := newEditor(t, node, id, "Last", 1)
	for range 30 {
		e.edit()
		e.drain()
	}
	e.settle(0) // every op acknowledged: durable, and queued for the viewers
	head := e.rev()
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	for i, v := range viewers {
		for m := range v.in {
			v.handle(m)
		}
		<-v.closeCh
		if code := v.code(); code != 1001 {
			t.Fatalf("viewer %d closed with %d, want 1001", i, code)
		}
		if got := scribe.Revision(v.m.Revision()); got != head || v.m.Text() != e.doc() {
			t.Fatalf("viewer %d ended at revision %d, want %d with the editor's text", i, got, head)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ts.Close()
	_ = store.Close()
}
