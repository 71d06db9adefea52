package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// converge runs clients random concurrent edits on one note (spread over
// the given nodes) and checks that every client ends with the same text,
// equal to what the store loads.
func converge(t *testing.T, nodes []*testNode, clients, edits int) {
	id := nodes[0].createNote("Convergence", "blank")
	eds := make([]*editor, clients)
	for i := range eds {
		eds[i] = newEditor(t, nodes[i%len(nodes)], id, fmt.Sprintf("Editor %d", i), uint64(i+1))
	}
	var wg sync.WaitGroup
	for _, e := range eds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range edits {
				e.edit()
				time.Sleep(time.Duration(e.rng.IntN(3)) * time.Millisecond)
				e.drain()
			}
			e.settle(0)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	n, err := nodes[0].store.GetNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eds {
		e.settle(n.Revision)
	}
	want := nodes[0].text(id)
	for i, e := range eds {
		if e.rev() != n.Revision {
			t.Errorf("editor %d at rev %d, store at %d", i, e.rev(), n.Revision)
		}
		if e.doc() != want {
			t.Errorf("editor %d diverged:\n got %q\nwant %q", i, e.doc(), want)
		}
	}
	// Every edit was committed once: as many revisions as edits, less the
	// ones that were composed into a buffer while another was in flight.
	var sent uint64
	for _, e := range eds {
		sent += e.seq
	}
	if uint64(n.Revision) != sent {
		t.Errorf("store has %d revisions, clients sent %d ops", n.Revision, sent)
	}
	for _, node := range nodes[1:] {
		if got := node.text(id); got != want {
			t.Errorf("nodes' stores disagree")
		}
	}
}

func TestConvergeBolt(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{OpsPerSecond: 10000})
	converge(t, []*testNode{node}, 8, 60)
}

// TestConvergeHundredEditors is a busy meeting on one node: each editor's
// frames are spaced by the longest window (memberWindow) and the room
// gathers ops from many editors into each commit. Every editor must still
// get every op and its own acks in order (the client machine fails on a
// gap or an ack out of turn) and end with the store's text.
func TestConvergeHundredEditors(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{OpsPerSecond: 10000})
	converge(t, []*testNode{node}, 100, 10)
}

func TestConvergeRedisTwoNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	a := startNode(t, redistest.Open(t, prefix), server.Limits{OpsPerSecond: 10000})
	b := startNode(t, redistest.Open(t, prefix), server.Limits{OpsPerSecond: 10000})
	converge(t, []*testNode{a, b}, 8, 60)
	for i, n := range []*testNode{a, b} {
		_, _, body := request(t, "GET", n.url+"/metrics", "", "", nil)
		t.Logf("node %d: %s; %s", i, metricLine(string(body), "scribe_commit_conflicts_total"), metricLine(string(body), "scribe_ops_remote_total"))
	}
}

// A resend of a committed op is acknowledged with its first revision and
// applied once; a reconnect with rev gets the catch-up.
func TestReconnectResendAndCatchUp(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Reconnect", "blank")
	start := node.text(id)
	n16 := ot.Len16(start)

	a := newEditor(t, node, id, "Ada", 1)
	op1 := mustOp(t, n16, "hello😀")
	a.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op1})
	if ack := a.expect("ack"); ack.Seq != 1 || ack.Rev != 1 {
		t.Fatalf("ack = %+v", ack)
	}
	// A resend on the same connection, already acknowledged there, is not
	// applied and not acknowledged twice: the next ack is for seq 2.
	a.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op1})
	// Op seq 2 sent, then the connection drops before the client reads the ack.
	op2 := mustOp(t, n16+7, "!")
	a.send(map[string]any{"type": "op", "rev": 1, "seq": 2, "op": op2})
	if ack := a.next(); ack.Type != "ack" || ack.Seq != 2 || ack.Rev != 2 {
		t.Fatalf("after a duplicate on one connection: %+v, want ack seq 2 rev 2", ack)
	}
	_ = a.conn.Close()

	// Someone else edits meanwhile.
	b := newEditor(t, node, id, "Grace", 2)
	b.settle(0)
	opB := mustOp(t, "B", ot.Len16(b.doc()))
	b.send(map[string]any{"type": "op", "rev": b.rev(), "seq": 1, "op": opB})
	ackB := b.expect("ack")

	// Reconnect with the same session from rev 1.
	a2 := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := a2.hello(a.session, "Ada", revPtr(1))
	if !w.Catchup || w.HasText {
		t.Fatalf("welcome for a reconnect with rev: catchup=%v text=%v", w.Catchup, w.HasText)
	}
	if w.Rev != ackB.Rev {
		t.Errorf("welcome rev = %d, want the head %d", w.Rev, ackB.Rev)
	}
	if w.LastSeq != 2 {
		t.Fatalf("lastSeq = %d, want 2 (op 2 was committed before the drop)", w.LastSeq)
	}
	// The catch-up: rev 2 is our op 2 (as an ack), rev 3 is B's op.
	m := a2.next()
	if m.Type != "ack" || m.Seq != 2 || m.Rev != 2 {
		t.Fatalf("catch-up[0] = %+v, want ack seq 2 rev 2", m)
	}
	m = a2.next()
	if m.Type != "op" || m.Rev != 3 {
		t.Fatalf("catch-up[1] = %+v, want op rev 3", m)
	}
	// A resend of op 2 anyway (a confused client) is ignored: it was
	// acknowledged in the catch-up.
	a2.send(map[string]any{"type": "op", "rev": 1, "seq": 2, "op": op2})
	want := "B" + start + "hello😀!"
	if got := node.text(id); got != want {
		t.Fatalf("text = %q, want %q (each edit exactly once)", got, want)
	}
	// A reused seq for a different op is refused.
	a2.send(map[string]any{"type": "op", "rev": 3, "seq": 1, "op": mustOp(t, ot.Len16(want), "x")})
	if e := a2.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("reused seq: %+v", e)
	}
	if got := node.text(id); got != want {
		t.Fatalf("a refused op changed the text: %q", got)
	}
}

// A client with an old base revision is transformed over what was committed
// since; a rev from the future is refused.
func TestStaleOpTransformed(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Stale", "blank")
	base := node.text(id)
	a := newEditor(t, node, id, "A", 1)
	b := newEditor(t, node, id, "B", 2)
	n := ot.Len16(base)
	a.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, "A", n)})
	a.expect("ack")
	b.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, n, "B")})
	if ack := b.expect("ack"); ack.Rev != 2 {
		t.Fatalf("ack %+v", ack)
	}
	if got, want := node.text(id), "A"+base+"B"; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	b.send(map[string]any{"type": "op", "rev": 99, "seq": 2, "op": mustOp(t, n+2, "C")})
	if e := b.expect("error"); e.Code != scribe.EINVALID || e.Seq != 2 {
		t.Fatalf("future rev: %+v", e)
	}
	// hello with a rev from the future: error and close 1008.
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	c.send(map[string]any{"type": "hello", "protocol": 1, "session": newSession(), "rev": 50})
	if e := c.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("hello from the future: %+v", e)
	}
	if code := c.waitClose(); code != 1008 {
		t.Fatalf("close code %d, want 1008", code)
	}
}

// A read-only link watches, is refused every edit, and nothing it receives
// holds the note's id; revoking the link closes it with 4404.
func TestReadOnlyAndRevocation(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Secret plans", "blank")
	var share struct {
		Token scribe.Token `json:"token"`
		URL   string       `json:"url"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/shares", nil, &share); code != http.StatusCreated {
		t.Fatalf("create share: %d", code)
	}
	ed := newEditor(t, node, id, "Writer", 1)
	ed.edit()

	ro := dial(t, wsURL(node.url, "/api/shares/"+string(share.Token)+"/ws"), nil)
	w := ro.hello(newSession(), "Viewer", nil)
	if !w.ReadOnly || !w.HasText {
		t.Fatalf("read-only welcome: %+v", w)
	}
	// The editor sees the viewer counted, never announced by name.
	for {
		m := ed.next()
		if (m.Type == "presence" || m.Type == "leave") && m.Client == w.Client {
			t.Fatalf("the editor got a %s about the viewer: %+v", m.Type, m)
		}
		if m.Type == "viewers" && m.Viewers == 1 {
			break
		}
		ed.handle(m)
	}
	before := node.text(id)
	ro.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": mustOp(t, "x", ot.Len16(before))})
	if e := ro.expect("error"); e.Code != scribe.EFORBIDDEN || e.Seq != 1 {
		t.Fatalf("edit through a read-only link: %+v", e)
	}
	// The viewer sees live edits.
	ed.settle(0)
	ed.edit()
	ed.settle(0)
	ro.expect("op")
	if got := node.text(id); got != ed.doc() {
		t.Fatalf("store %q, editor %q", got, ed.doc())
	}
	for _, f := range ro.rawFrames() {
		if bytes.Contains(f, []byte(id)) {
			t.Fatalf("a frame to the read-only client holds the note id: %s", f)
		}
	}
	// The share's HTTP view does not reveal the id either.
	req, _ := http.NewRequest("GET", node.url+"/api/shares/"+string(share.Token), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	// The title follows the heading, which the random edit may have changed.
	cur, err := node.store.GetNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	wantTitle, _ := json.Marshal(cur.Title)
	if resp.StatusCode != 200 || bytes.Contains(buf.Bytes(), []byte(id)) || !strings.Contains(buf.String(), `"title":`+string(wantTitle)) {
		t.Fatalf("GET share: %d %s", resp.StatusCode, buf.String())
	}
	page, _ := http.Get(node.url + "/s/" + string(share.Token))
	buf.Reset()
	_, _ = buf.ReadFrom(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || bytes.Contains(buf.Bytes(), []byte(id)) {
		t.Fatalf("read-only page: %d, holds id: %v", page.StatusCode, bytes.Contains(buf.Bytes(), []byte(id)))
	}

	if code, _ := node.do("DELETE", "/api/notes/"+string(id)+"/shares/"+string(share.Token), nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code := ro.waitClose(); code != 4404 {
		t.Fatalf("revoked viewer closed with %d, want 4404", code)
	}
	// The editor is unaffected and the token is dead.
	ed.edit()
	ed.settle(0)
	if code, _ := node.do("GET", "/api/shares/"+string(share.Token), nil, nil); code != http.StatusNotFound {
		t.Fatalf("revoked share: %d", code)
	}
	if _, resp, err := dialRaw(wsURL(node.url, "/api/shares/"+string(share.Token)+"/ws")); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Fatalf("dial a revoked share: %v", err)
	}
}

// Revoking a token on one node closes its connection on another.
func TestRevocationAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	a := startNode(t, redistest.Open(t, prefix), server.Limits{})
	b := startNode(t, redistest.Open(t, prefix), server.Limits{})
	id := a.createNote("Cross-node", "blank")
	var share struct {
		Token scribe.Token `json:"token"`
	}
	a.do("POST", "/api/notes/"+string(id)+"/shares", nil, &share)
	ro := dial(t, wsURL(b.url, "/api/shares/"+string(share.Token)+"/ws"), nil)
	ro.hello(newSession(), "Viewer", nil)
	if code, _ := a.do("DELETE", "/api/notes/"+string(id)+"/shares/"+string(share.Token), nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code := ro.waitClose(); code != 4404 {
		t.Fatalf("closed with %d, want 4404", code)
	}
}

// Presence: a selection reaches the others with name and colour, across
// nodes, and a leave follows a disconnect.
func TestPresenceAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	a := startNode(t, redistest.Open(t, prefix), server.Limits{})
	b := startNode(t, redistest.Open(t, prefix), server.Limits{})
	id := a.createNote("Presence", "blank")
	x := newEditor(t, a, id, "Xavier", 1)
	y := newEditor(t, b, id, "Yvonne", 2)
	// Node b's room, opening, asks the others for their peers: once y
	// knows x, node b does.
	waitPeer(t, y.wsClient, y.m.Peers(), x.m.ClientID())

	x.send(map[string]any{"type": "presence", "rev": x.rev(), "sel": []ot.Range{{Anchor: 1, Head: 3}}})
	for {
		m := y.next()
		if m.Type == "presence" && m.Name() == "Xavier" && len(sel(t, m)) == 1 {
			if sel(t, m)[0] != (ot.Range{Anchor: 1, Head: 3}) || m.Color() == "" || m.Rev != int64(y.rev()) {
				t.Fatalf("presence = %+v", m)
			}
			break
		}
	}
	// A third client joining b lists both in its welcome.
	z := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := z.hello(newSession(), "Zed", nil)
	names := map[string]bool{}
	for _, p := range peersOf(t, w) {
		names[p.Name] = true
	}
	if !names["Xavier"] || !names["Yvonne"] || len(peersOf(t, w)) != 2 {
		t.Fatalf("welcome peers = %+v", peersOf(t, w))
	}
	_ = x.conn.Close()
	for {
		m := z.next()
		if m.Type == "leave" {
			break
		}
	}
}

// Every malformed frame gets an error and changes nothing; others are not
// disturbed.
func TestMalformedFrames(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Malformed", "blank")
	start := node.text(id)
	n := ot.Len16(start)
	other := newEditor(t, node, id, "Other", 1)

	// A message before hello.
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	c.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": []any{n, "x"}})
	if e := c.expect("error"); e.Code != scribe.EINVALID {
		t.Fatalf("op before hello: %+v", e)
	}
	w := c.hello(newSession(), "Fuzzer", nil)

	cases := []struct {
		name  string
		frame string
	}{
		{"not json", `hello`},
		{"array", `[1,2]`},
		{"no type", `{"rev":0}`},
		{"unknown type", `{"type":"dance"}`},
		{"rev as string", `{"type":"op","rev":"0","seq":1,"op":[1]}`},
		{"missing op", `{"type":"op","rev":0,"seq":1}`},
		{"op not an array", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":{"retain":%d}}`, n)},
		{"op too short", `{"type":"op","rev":0,"seq":1,"op":["x"]}`},
		{"op too long", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":[%d,"x"]}`, n+5)},
		{"huge number", `{"type":"op","rev":0,"seq":1,"op":[99999999999999999999]}`},
		{"huge rev", `{"type":"op","rev":1e400,"seq":1,"op":[1]}`},
		{"float", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":[%d.5]}`, n)},
		{"zero", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":[0,%d]}`, n)},
		{"null item", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":[null,%d]}`, n)},
		{"lone surrogate", fmt.Sprintf(`{"type":"op","rev":0,"seq":1,"op":["\ud83d",%d]}`, n)},
		{"seq zero", fmt.Sprintf(`{"type":"op","rev":0,"seq":0,"op":[%d]}`, n)},
		{"negative rev", fmt.Sprintf(`{"type":"op","rev":-1,"seq":1,"op":[%d]}`, n)},
		{"second hello", `{"type":"hello","protocol":1,"session":"abcdefgh"}`},
		{"presence outside", `{"type":"presence","rev":0,"sel":[{"anchor":100000,"head":0}]}`},
		{"presence bad sel", `{"type":"presence","rev":0,"sel":"x"}`},
		{"name too long", `{"type":"name","name":"` + strings.Repeat("n", 65) + `"}`},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		e := c.expect("error")
		if e.Code != scribe.EINVALID {
			t.Errorf("%s: got %s %q, want EINVALID", tc.name, e.Code, e.Message)
		}
	}
	// A binary frame too.
	if err := c.conn.WriteMessage(2, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if e := c.expect("error"); e.Code != scribe.EINVALID {
		t.Errorf("binary frame: %+v", e)
	}
	if got := node.text(id); got != start {
		t.Fatalf("malformed frames changed the text: %q", got)
	}
	// The connection still works, and so does the other client.
	c.send(map[string]any{"type": "op", "rev": w.Rev, "seq": 1, "op": mustOp(t, n, "ok")})
	c.expect("ack")
	other.settle(1)
	if other.doc() != start+"ok" {
		t.Fatalf("other client has %q", other.doc())
	}
}

// Limits: an oversize frame, the note size, the op rate.
func TestLimits(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{MaxMessageBytes: 4096, MaxNoteBytes: 2000, OpsPerSecond: 5})
	id := node.createNote("Limits", "blank")
	n := ot.Len16(node.text(id))

	big := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := big.hello(newSession(), "Big", nil)
	var limits map[string]any
	if err := json.Unmarshal(w.Limits, &limits); err != nil || limits["maxMessageBytes"] != float64(4096) || limits["maxNoteBytes"] != float64(2000) || limits["opsPerSecond"] != float64(5) {
		t.Fatalf("welcome limits = %s (%v)", w.Limits, err)
	}
	big.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, n, strings.Repeat("x", 5000))})
	if e := big.expect("error"); e.Code != scribe.ETOOLARGE {
		t.Fatalf("oversize frame: %+v", e)
	}
	if code := big.waitClose(); code != 1008 {
		t.Fatalf("oversize frame closed with %d, want 1008", code)
	}

	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	c.hello(newSession(), "Writer", nil)
	c.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, n, strings.Repeat("é", 1000))})
	if e := c.expect("error"); e.Code != scribe.ETOOLARGE || e.Seq != 1 {
		t.Fatalf("note too large: %+v", e)
	}
	// Rate: a burst beyond 5 ops is refused.
	rev := scribe.Revision(0)
	limited := false
	for seq := uint64(1); seq <= 12 && !limited; seq++ {
		c.send(map[string]any{"type": "op", "rev": rev, "seq": seq, "op": mustOp(t, n+int(rev), "y")})
		m := c.next()
		switch {
		case m.Type == "ack":
			rev = scribe.Revision(m.Rev)
		case m.Type == "error" && m.Code == scribe.ERATELIMIT:
			limited = true
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	if !limited {
		t.Fatal("12 ops in a burst were not rate limited at 5/s")
	}
	if got := node.text(id); ot.Len16(got) != n+int(rev) {
		t.Fatalf("text has %d units, want %d", ot.Len16(got), n+int(rev))
	}
}

// A client that stops reading is disconnected (4000) without delaying the
// others.
func TestSlowClientDropped(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{SendQueueBytes: 64 << 10, OpsPerSecond: 1e6, MaxNoteBytes: 1 << 20, MaxMessageBytes: 1 << 20})
	id := node.createNote("Slow", "blank")
	slow := dialSlow(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"))
	slow.hello(newSession(), "Sloth", nil) // reads the welcome, then stops reading
	slow.pause()

	fast := newEditor(t, node, id, "Hare", 1)
	doc := floodPastStalled(t, fast, slow, nil)
	// All were acked while the slow client read nothing: it did not hold
	// the session up. The server dropped it as too slow.
	checkDroppedSlow(t, node, slow, "slow client")
	if got := node.text(id); got != doc {
		t.Fatal("store text differs")
	}
}

// floodPastStalled has ed send 600 ops, each replacing the note's text
// with up to 16 KiB, waiting for each one's ack, while slow reads nothing,
// and returns the text. after, when set, runs after each ack.
//
// The stalled client stalls reading, not writing: it sends a ping with
// each op. The server drops a client that sends nothing for pongWait
// (60 s), for that and not as too slow; on a loaded machine these ops took
// longer than that to fill the server's socket buffer (up to 4 MiB) and a
// 64 KiB queue. Once it is dropped, its writes fail, which is fine.
func floodPastStalled(t *testing.T, ed *editor, slow *wsClient, after func(i int, rev scribe.Revision)) string {
	t.Helper()
	chunk := strings.Repeat("0123456789abcdef", 1024) // 16 KiB per op
	doc, rev := ed.doc(), ed.rev()
	for i := range 600 {
		_ = slow.conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"ping","id":%d}`, i)))
		op := mustOp(t, -ot.Len16(doc), chunk[:len(chunk)-i%7])
		if doc == "" {
			op = mustOp(t, chunk[:len(chunk)-i%7])
		}
		ed.send(map[string]any{"type": "op", "rev": rev, "seq": i + 1, "op": op})
		for {
			m := ed.next()
			if m.Type == "ack" {
				rev = scribe.Revision(m.Rev)
				break
			}
			if m.Type == "error" {
				t.Fatalf("error %+v", m)
			}
		}
		doc = chunk[:len(chunk)-i%7]
		if after != nil {
			after(i, rev)
		}
	}
	return doc
}

// checkDroppedSlow checks that node dropped one client as too slow, and
// that slow (who) finds its connection closed once it reads again: the
// close frame (4000), unless the server gave up writing to it first
// (writeWait) and cut the connection: then it reads what the kernel still
// held and the end of the stream (1006), or, when the kernel dropped the
// closed socket's unsent data (it does under memory pressure on a loaded
// machine), a reset.
func checkDroppedSlow(t *testing.T, node *testNode, slow *wsClient, who string) {
	t.Helper()
	resp, err := http.Get(node.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(buf.String(), `scribe_clients_dropped_total{reason="slow"} 1`) {
		t.Fatalf("metrics do not count one slow client dropped:\n%s", grepLines(buf.String(), "dropped"))
	}
	slow.resume()
	if code := slow.waitClose(); code != 4000 && code != 1006 && !errors.Is(slow.readError(), syscall.ECONNRESET) {
		t.Fatalf("%s closed with %d (%v), want 4000 (or 1006, or a reset)", who, code, slow.readError())
	}
}

// Graceful shutdown commits, then closes with 1001.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t)
	srv, err := server.New(server.Config{Store: store, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	ts := newListener(t, srv)
	id := createNoteDirect(t, ts, "Shutdown")
	node := &testNode{t: t, srv: srv, store: store, url: ts.URL}
	e := newEditor(t, node, id, "Last", 1)
	e.edit()
	e.settle(0)
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	if code := e.waitClose(); code != 1001 {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ts.Close()
	d, err := store.LoadNote(context.Background(), id)
	if err != nil || d.Text != e.doc() {
		t.Fatalf("after shutdown: %q %v, client had %q", d.Text, err, e.doc())
	}
	_ = store.Close()
}

// An API append goes through the session: live clients see it.
func TestAppendSeenLive(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Deploys", "blank")
	e := newEditor(t, node, id, "Watcher", 1)
	var res struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": "deploy 1.4 finished 🚀"}, &res); code != 200 || res.Revision != 1 {
		t.Fatalf("append: %d %+v", code, res)
	}
	e.settle(1)
	if !strings.HasSuffix(e.doc(), "\ndeploy 1.4 finished 🚀\n") || e.doc() != node.text(id) {
		t.Fatalf("client text %q, store %q", e.doc(), node.text(id))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// An op committed through one node's connection is, on the session's other
// connection (another node), neither echoed as an op nor applied twice when
// resent: the resend is acknowledged with its revision.
func TestResendAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	a := startNode(t, redistest.Open(t, prefix), server.Limits{})
	b := startNode(t, redistest.Open(t, prefix), server.Limits{})
	id := a.createNote("Moving", "blank")
	start := a.text(id)
	session := newSession()
	onA := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	onA.hello(session, "Ada", nil)
	onB := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	onB.hello(session, "Ada", nil)
	watcher := newEditor(t, b, id, "Watcher", 9)

	op := mustOp(t, "😀", ot.Len16(start))
	onA.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op})
	if ack := onA.expect("ack"); ack.Rev != 1 {
		t.Fatalf("ack on A: %+v", ack)
	}
	// Node b forwards the commit to the session's connection there as an
	// ack, never as an op (which would apply the edit twice).
	m := nextNonPresence(onB)
	if m.Type != "ack" || m.Seq != 1 || m.Rev != 1 {
		t.Fatalf("the other connection got %+v, want ack seq 1 rev 1", m)
	}
	// Its resend (sent before it saw the ack) is neither applied nor acked
	// again; a new op and another client's op follow in order.
	onB.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op})
	onB.send(map[string]any{"type": "op", "rev": 1, "seq": 2, "op": mustOp(t, ot.Len16(start)+2, "!")})
	if m := nextNonPresence(onB); m.Type != "ack" || m.Seq != 2 || m.Rev != 2 {
		t.Fatalf("got %+v, want ack seq 2 rev 2", m)
	}
	watcher.settle(2)
	watcher.edit()
	watcher.settle(0)
	if m := nextNonPresence(onB); m.Type != "op" || m.Rev != 3 {
		t.Fatalf("got %+v, want op rev 3", m)
	}
	if got := a.text(id); got != watcher.doc() {
		t.Fatalf("store %q, watcher %q", got, watcher.doc())
	}
	if n := countSession(t, a, id, session); n != 2 {
		t.Fatalf("the session has %d changes in the log, want 2", n)
	}
}

// countSession counts a session's changes in the note's log.
func countSession(t *testing.T, n *testNode, id scribe.NoteID, session string) int {
	t.Helper()
	changes, err := n.store.Changes(context.Background(), id, 0, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, ch := range changes {
		if ch.Session == session {
			count++
		}
	}
	return count
}

// A second connection of one session on the same node (the client
// reconnected before the server noticed the old connection drop) gets the
// old connection's commit as an ack, and the revision sequence stays whole.
func TestTwoConnectionsOneSession(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Twins", "blank")
	start := node.text(id)
	session := newSession()
	old := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	old.hello(session, "Ada", nil)
	fresh := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	if w := fresh.hello(session, "Ada", revPtr(0)); w.LastSeq != 0 {
		t.Fatalf("lastSeq %d", w.LastSeq)
	}
	other := newEditor(t, node, id, "Other", 3)
	op := mustOp(t, ot.Len16(start), "x")
	old.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op})
	fresh.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": op}) // the resend
	if m := nextNonPresence(fresh); m.Type != "ack" || m.Seq != 1 || m.Rev != 1 {
		t.Fatalf("fresh got %+v, want ack seq 1 rev 1", m)
	}
	other.settle(1)
	other.edit()
	other.settle(0)
	if m := nextNonPresence(fresh); m.Type != "op" || m.Rev != 2 {
		t.Fatalf("fresh got %+v, want op rev 2", m)
	}
	if got := node.text(id); got != other.doc() {
		t.Fatalf("text %q, other has %q", got, other.doc())
	}
	if n := countSession(t, node, id, session); n != 1 {
		t.Fatalf("the session has %d changes in the log, want 1", n)
	}
}

// nextNonPresence returns the next message that is not about presence.
func nextNonPresence(c *wsClient) protocol.Msg {
	c.t.Helper()
	for {
		m := c.next()
		if m.Type != "presence" && m.Type != "leave" {
			return m
		}
	}
}

// metricLine returns the sample line of a metric without labels.
func metricLine(body, name string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return name + " (absent)"
}

// A client that moves to another node (same session) does not leave its
// old cursor behind there: the others get a leave for the old connection.
func TestMovedClientLeavesNoGhost(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	a := startNode(t, redistest.Open(t, prefix), server.Limits{})
	b := startNode(t, redistest.Open(t, prefix), server.Limits{})
	id := a.createNote("Ghosts", "blank")
	watcher := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	watcher.hello(newSession(), "Watcher", nil)
	session := newSession()
	first := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	w1 := first.hello(session, "Mover", nil)
	for { // the watcher on b learns of the mover on a
		if m := watcher.next(); m.Type == "presence" && m.Client == w1.Client {
			break
		}
	}
	second := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	w2 := second.hello(session, "Mover", revPtr(0))
	for _, p := range peersOf(t, w2) {
		if p.Client == w1.Client {
			t.Fatalf("the moved client's old connection is listed in its own welcome: %+v", peersOf(t, w2))
		}
	}
	for {
		m := watcher.next()
		if m.Type == "leave" && m.Client == w1.Client {
			break
		}
		if m.Type == "leave" {
			t.Fatalf("unexpected leave %+v", m)
		}
	}
}

// A client far behind gets the full text instead of a catch-up, and an op
// based on a revision that far back closes its connection rather than being
// transformed over thousands of changes.
func TestFarBehind(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Long history", "blank")
	n := ot.Len16(node.text(id))
	changes := make([]scribe.Change, 5100)
	for i := range changes {
		changes[i] = scribe.Change{Op: []byte(mustOp(t, "a", n+i).String()), Session: "bulk-writer", Seq: uint64(i + 1)}
	}
	if _, err := node.store.Append(context.Background(), id, 0, changes); err != nil {
		t.Fatal(err)
	}
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := c.hello(newSession(), "Late", revPtr(3))
	if w.Catchup || !w.HasText || w.Text != node.text(id) || w.Rev != 5100 {
		t.Fatalf("welcome: catchup=%v rev=%d text=%v", w.Catchup, w.Rev, w.HasText)
	}
	// The op is older than the history in memory: not transformed (which
	// would read the store per op) but answered by closing the connection
	// as too slow; the client reconnects with its rev and merges.
	before := node.text(id)
	c.send(map[string]any{"type": "op", "rev": 3, "seq": 1, "op": mustOp(t, "b", n+3)})
	if code := c.waitClose(); code != 4000 {
		t.Fatalf("stale op: closed with %d, want 4000", code)
	}
	if node.text(id) != before {
		t.Fatal("the stale op was committed")
	}
	// A catch-up that is not too long is served from the store.
	c2 := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	w2 := c2.hello(newSession(), "Recent", revPtr(1000))
	if !w2.Catchup || w2.HasText {
		t.Fatalf("welcome from rev 1000: catchup=%v", w2.Catchup)
	}
	for r := scribe.Revision(1001); r <= 5100; r++ {
		if m := c2.next(); m.Type != "op" || m.Rev != int64(r) {
			t.Fatalf("catch-up: got %+v, want op rev %d", m, r)
		}
	}
}

// reconnect drops the editor's connection abruptly (whatever is in flight
// or unread is lost with it) and reconnects to node with the same session
// and its revision, as the browser does: the in-flight op is resent only if
// the welcome's lastSeq says it was not committed (connect retries a node
// that refuses the join for a while, as the browser does).
func (e *editor) reconnect(node *testNode, id scribe.NoteID) {
	e.t.Helper()
	_ = e.conn.Close()
	e.m.Disconnected()
	if w := e.connect(node, id); !w.Catchup {
		e.t.Fatalf("reconnect from rev %d: no catch-up", e.rev())
	}
}

// Editors spread over three nodes sharing Redis keep typing while they drop
// their connections at random moments (ops in flight, frames unread) and
// reconnect to a random node. Every edit lands exactly once: all converge on
// the store's text, and the log holds exactly the ops the clients sent.
func TestReconnectChaosThreeNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	var nodes []*testNode
	for range 3 {
		nodes = append(nodes, startNode(t, redistest.Open(t, prefix), server.Limits{OpsPerSecond: 10000}))
	}
	id := nodes[0].createNote("Chaos", "blank")
	eds := make([]*editor, 9)
	for i := range eds {
		eds[i] = newEditor(t, nodes[i%3], id, fmt.Sprintf("E%d", i), uint64(100+i))
	}
	var wg sync.WaitGroup
	for _, e := range eds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				e.edit()
				if e.rng.IntN(8) == 0 {
					e.reconnect(nodes[e.rng.IntN(3)], id)
				}
				time.Sleep(time.Duration(e.rng.IntN(2)) * time.Millisecond)
				e.drain()
			}
			e.settle(0)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	head, err := nodes[0].store.GetNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := nodes[0].text(id)
	var sent uint64
	for i, e := range eds {
		e.settle(head.Revision)
		sent += e.seq
		if e.doc() != want {
			t.Errorf("editor %d diverged:\n got %q\nwant %q", i, e.doc(), want)
		}
		if n := countSession(t, nodes[0], id, e.session); uint64(n) != e.seq {
			t.Errorf("editor %d sent %d ops, the log holds %d of them", i, e.seq, n)
		}
	}
	if uint64(head.Revision) != sent {
		t.Errorf("the log has %d revisions, the editors sent %d ops", head.Revision, sent)
	}
}

// waitPeer returns once c's client knows peer: listed in peers (its
// welcome's) or announced by a presence message since, skipping what comes
// before it. Across nodes it is the barrier that says c's node has heard of
// peer.
func waitPeer(t *testing.T, c *wsClient, peers []protocol.Peer, peer string) {
	t.Helper()
	for _, p := range peers {
		if p.Client == peer {
			return
		}
	}
	for {
		if m := c.next(); m.Type == "presence" && m.Client == peer {
			return
		}
	}
}

// quiet returns the messages c receives within d, for a test that checks
// something does not arrive.
func quiet(c *wsClient, d time.Duration) []protocol.Msg {
	var out []protocol.Msg
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-timeout:
			return out
		}
	}
}

// joinQuietly dials a note and says hello, and returns the welcome.
func joinQuietly(t *testing.T, node *testNode, id scribe.NoteID, name string) (*wsClient, protocol.Msg) {
	t.Helper()
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	return c, c.hello(newSession(), name, nil)
}

// An op with a selection reaches the others with the selection in the op
// message, at the op's revision, even when the op is transformed over a
// concurrent one, and no presence message follows it; a presence message or
// a rename of the same client still goes out.
func TestOpCarriesSelection(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Cursors", "blank")
	n := ot.Len16(node.text(id))
	a, wa := joinQuietly(t, node, id, "Ada")
	b, wb := joinQuietly(t, node, id, "Bob")
	o, wo := joinQuietly(t, node, id, "Olga")
	// The room announces arrivals in batches (Timing.PresenceFlush): once
	// Ada and Bob have heard of Olga, every arrival announced before hers
	// is queued for Olga too, ahead of what follows, however slow the run.
	waitPeer(t, a, nil, wo.Client)
	waitPeer(t, b, nil, wo.Client)

	// Ada types "x" at the end, her cursor after it.
	a.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, n, "x"), "sel": []ot.Range{{Anchor: n + 1, Head: n + 1}}})
	if m := a.expect("ack"); m.Rev != 1 {
		t.Fatalf("ack %+v", m)
	}
	m := o.next()
	for m.Type == "presence" && (m.Client == wa.Client || m.Client == wb.Client) && sel(t, m) == nil {
		m = o.next() // Ada's or Bob's arrival, announced after Olga joined
	}
	if m.Type != "op" || m.Rev != 1 || m.Client != wa.Client || len(sel(t, m)) != 1 || sel(t, m)[0] != (ot.Range{Anchor: n + 1, Head: n + 1}) {
		t.Fatalf("got %+v, want Ada's op with her cursor at %d", m, n+1)
	}
	// Bob, still at revision 0, types "B" at the start and selects it.
	// Over Ada's op his op is unchanged and his selection too.
	b.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, "B", n), "sel": []ot.Range{{Anchor: 0, Head: 1}}})
	m = o.next()
	if m.Type != "op" || m.Rev != 2 || m.Client != wb.Client || len(sel(t, m)) != 1 || sel(t, m)[0] != (ot.Range{Anchor: 0, Head: 1}) {
		t.Fatalf("got %+v, want Bob's op with 0..1", m)
	}
	// Ada, still at revision 1, types "y" after her "x": over Bob's "B" at
	// the start, her op and her cursor move right by one.
	a.send(map[string]any{"type": "op", "rev": 1, "seq": 2, "op": mustOp(t, n+1, "y"), "sel": []ot.Range{{Anchor: n + 2, Head: n + 2}}})
	m = o.next()
	if m.Type != "op" || m.Rev != 3 || len(sel(t, m)) != 1 || sel(t, m)[0] != (ot.Range{Anchor: n + 3, Head: n + 3}) || string(m.Op) != fmt.Sprintf(`[%d,"y"]`, n+2) {
		t.Fatalf("got %+v, want Ada's transformed op with her cursor at %d", m, n+3)
	}
	// No presence message follows any of these moves.
	for _, m := range quiet(o, 300*time.Millisecond) {
		t.Errorf("after ops with selections, Olga got %+v", m)
	}

	// A presence message of Ada's still goes out, at the head.
	a.send(map[string]any{"type": "presence", "rev": 3, "sel": []ot.Range{{Anchor: 0, Head: 2}}})
	m = o.next()
	if m.Type != "presence" || m.Client != wa.Client || m.Rev != 3 || len(sel(t, m)) != 1 || sel(t, m)[0] != (ot.Range{Anchor: 0, Head: 2}) || m.Name() != "Ada" {
		t.Fatalf("got %+v, want Ada's presence", m)
	}
	// So does a rename, with the selection her op carried.
	a.send(map[string]any{"type": "op", "rev": 3, "seq": 3, "op": mustOp(t, n+3, "z"), "sel": []ot.Range{{Anchor: 1, Head: 1}}})
	a.send(map[string]any{"type": "name", "name": "Ada L."})
	if m = o.next(); m.Type != "op" || m.Rev != 4 || sel(t, m)[0] != (ot.Range{Anchor: 1, Head: 1}) {
		t.Fatalf("got %+v, want Ada's op", m)
	}
	if m = o.next(); m.Type != "presence" || m.Name() != "Ada L." || m.Rev != 4 || sel(t, m)[0] != (ot.Range{Anchor: 1, Head: 1}) {
		t.Fatalf("got %+v, want Ada's rename", m)
	}
	// An op without a selection carries none.
	b.send(map[string]any{"type": "op", "rev": 4, "seq": 2, "op": mustOp(t, n+4, "!")})
	if m = o.next(); m.Type != "op" || m.Rev != 5 || sel(t, m) != nil {
		t.Fatalf("got %+v, want Bob's op without a selection", m)
	}
	if raw := o.rawFrames(); bytes.Contains(raw[len(raw)-1], []byte(`"sel"`)) {
		t.Fatalf("op without a selection: %s", raw[len(raw)-1])
	}
	for _, m := range quiet(o, 200*time.Millisecond) {
		t.Errorf("Olga got %+v", m)
	}
}

// Across nodes, a peer's op arrives without the selection (the other node
// hears the commit from the store), and a presence message brings the
// selection; on the author's own node the op carries it.
func TestOpSelectionAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "servertest")
	na := startNode(t, redistest.Open(t, prefix), server.Limits{})
	nb := startNode(t, redistest.Open(t, prefix), server.Limits{})
	id := na.createNote("Cursors across", "blank")
	n := ot.Len16(na.text(id))
	x, wx := joinQuietly(t, na, id, "Xavier")
	y, wy := joinQuietly(t, nb, id, "Yvonne")
	z, wz := joinQuietly(t, na, id, "Zed")
	// Wait until node b knows Xavier, so that his ops are attributed.
	waitPeer(t, y, peersOf(t, wy), wx.Client)
	// And until Xavier has heard of Zed: the room announces arrivals in
	// batches (Timing.PresenceFlush), so Xavier's own arrival has then
	// been announced too, before his first op. Announced after it, on a
	// slow run, it carried that op's selection.
	waitPeer(t, x, nil, wz.Client)

	// Zed may yet hear of the others: of Xavier's arrival (announced in a
	// batch, Timing.PresenceFlush), and of Yvonne's presence whenever node
	// b's reaches node a: her arrival, and node b's periodic republish
	// (Timing.PresenceRefresh), which a slow run reaches once her revision
	// has moved. What is checked on Zed's side is Xavier's ops, and that
	// no presence of his with a selection follows them.
	notArrival := func(m protocol.Msg) bool {
		return m.Type != "presence" || !(m.Client == wy.Client || m.Client == wx.Client && sel(t, m) == nil)
	}
	for i := range 3 {
		x.send(map[string]any{"type": "op", "rev": i, "seq": i + 1, "op": mustOp(t, n+i, "x"), "sel": []ot.Range{{Anchor: 1 + i, Head: n + 1 + i}}})
		x.expect("ack")
		want := ot.Range{Anchor: 1 + i, Head: n + 1 + i}
		if m := nextWhere(z, notArrival); m.Type != "op" || m.Client != wx.Client || len(sel(t, m)) != 1 || sel(t, m)[0] != want {
			t.Fatalf("same node: got %+v, want the op with %v", m, want)
		}
		// (Presence messages before it are Zed's arrival.)
		if m := nextNonPresence(y); m.Type != "op" || m.Rev != int64(i+1) || sel(t, m) != nil {
			t.Fatalf("other node: got %+v, want op %d without a selection", m, i+1)
		}
		for {
			m := y.next()
			if m.Type == "op" {
				t.Fatalf("other node: op %+v before Xavier's presence", m)
			}
			if m.Type == "presence" && m.Client == wx.Client && len(sel(t, m)) == 1 && sel(t, m)[0] == want {
				if m.Rev != int64(i+1) || m.Name() != "Xavier" {
					t.Fatalf("other node: presence %+v", m)
				}
				break
			}
		}
	}
	for _, m := range quiet(z, 200*time.Millisecond) {
		if m.Type == "presence" && notArrival(m) {
			t.Errorf("same node: presence %+v after ops with selections", m)
		}
	}
}

// nextWhere returns the next message of c that keep accepts, skipping the
// others.
func nextWhere(c *wsClient, keep func(protocol.Msg) bool) protocol.Msg {
	c.t.Helper()
	for {
		if m := c.next(); keep(m) {
			return m
		}
	}
}
