package ot

import (
	"container/heap"
	"math/rand/v2"
	"testing"
)

// A deterministic simulation of one central server and N clients running
// the classic OT client state machine (the one ot.js's Client implements and
// the browser runs): synchronized, awaiting confirm (one op in flight), or
// awaiting with buffer (an op in flight and local edits composed behind it).
// Messages travel with random delays, in order per direction, as over a
// websocket. At the end every client and the server hold the same text.

// simClient is one client's OT state machine.
type simClient struct {
	id       int
	rev      int    // the last server revision this client has seen
	doc      string // the local text, with unacknowledged edits applied
	inflight *Operation
	buffer   *Operation
	cursor   int // the user's cursor, moved through every edit
}

// edit applies a local edit and returns the op to send now, if any.
func (c *simClient) edit(t *testing.T, op Operation) (send *Operation) {
	c.doc = mustApply(t, c.doc, op)
	c.cursor = TransformIndex(c.cursor, op)
	switch {
	case c.inflight == nil: // synchronized
		c.inflight = &op
		return &op
	case c.buffer == nil: // awaiting confirm
		c.buffer = &op
	default: // awaiting with buffer
		b, err := Compose(*c.buffer, op)
		if err != nil {
			t.Fatalf("client %d: Compose(%s, %s): %v", c.id, *c.buffer, op, err)
		}
		c.buffer = &b
	}
	return nil
}

// serverOp applies another client's committed op.
func (c *simClient) serverOp(t *testing.T, op Operation) {
	c.rev++
	if c.inflight != nil {
		inf, op2, err := Transform(*c.inflight, op)
		if err != nil {
			t.Fatalf("client %d: Transform(%s, %s): %v", c.id, *c.inflight, op, err)
		}
		c.inflight, op = &inf, op2
		if c.buffer != nil {
			buf, op3, err := Transform(*c.buffer, op)
			if err != nil {
				t.Fatalf("client %d: Transform(%s, %s): %v", c.id, *c.buffer, op, err)
			}
			c.buffer, op = &buf, op3
		}
	}
	c.doc = mustApply(t, c.doc, op)
	c.cursor = TransformIndex(c.cursor, op)
	if c.cursor < 0 || c.cursor > Len16(c.doc) {
		t.Fatalf("client %d: cursor %d outside the document of length %d", c.id, c.cursor, Len16(c.doc))
	}
}

// ack handles the acknowledgement of the in-flight op and returns the
// buffer to send next, if any.
func (c *simClient) ack(t *testing.T) (send *Operation) {
	c.rev++
	if c.inflight == nil {
		t.Fatalf("client %d: ack with nothing in flight", c.id)
	}
	c.inflight, c.buffer = c.buffer, nil
	return c.inflight
}

// simServer is the central server: a live Document and the history.
type simServer struct {
	doc         *Document
	history     []Operation
	transformed int // ops that were concurrent with committed ones
}

// receive transforms an op based on revision rev over everything committed
// since and commits it.
func (s *simServer) receive(t *testing.T, rev int, op Operation) Operation {
	if rev < len(s.history) {
		s.transformed++
	}
	for _, h := range s.history[rev:] {
		var err error
		if op, _, err = Transform(op, h); err != nil {
			t.Fatalf("server: Transform: %v", err)
		}
	}
	if err := s.doc.Apply(op); err != nil {
		t.Fatalf("server: Apply(%s): %v", op, err)
	}
	s.history = append(s.history, op)
	return op
}

// event is something happening at a time: a client's keystroke, or a
// message arriving at the server (to == -1) or at a client.
type event struct {
	at, seq int
	to      int        // -1: the server; otherwise a client
	from    int        // the sender (for messages to the server)
	kind    string     // "edit", "op", "ack"
	rev     int        // base revision of an op sent to the server
	op      *Operation // the op carried, if any
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func TestSimulation(t *testing.T) {
	concurrent, total := 0, 0
	forSeeds(t, 100, func(t *testing.T, r *rand.Rand) {
		c, n := simulate(t, r, 2+r.IntN(4), 50)
		concurrent += c
		total += n
	})
	// The simulation is only worth something if edits really crossed.
	if concurrent < total/4 {
		t.Fatalf("only %d of %d committed ops were concurrent with others", concurrent, total)
	}
	t.Logf("%d of %d committed ops were transformed over concurrent ones", concurrent, total)
}

// simulate runs one simulation and returns how many ops the server had to
// transform and how many it committed.
func simulate(t *testing.T, r *rand.Rand, nClients, editsPerClient int) (int, int) {
	start := randText(r, r.IntN(40))
	d, err := NewDocument(start)
	if err != nil {
		t.Fatal(err)
	}
	srv := &simServer{doc: d}
	clients := make([]*simClient, nClients)
	var q eventQueue
	seq := 0
	push := func(e *event) {
		seq++
		e.seq = seq
		heap.Push(&q, e)
	}
	// Each direction of each link delivers in order: a message arrives no
	// earlier than the one sent before it on the same link.
	up := make([]int, nClients)   // last arrival time at the server, per client
	down := make([]int, nClients) // last arrival time at the client
	send := func(now, from, to int, kind string, rev int, op *Operation) {
		if op != nil { // the op travels in its JSON wire form
			data, err := op.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			wire, err := ParseJSON(data)
			if err != nil || !wire.Equal(*op) {
				t.Fatalf("%s travels as %s: %v", op, data, err)
			}
			op = &wire
		}
		at := now + 1 + r.IntN(50)
		if to == -1 {
			at = max(at, up[from])
			up[from] = at
		} else {
			at = max(at, down[to])
			down[to] = at
		}
		push(&event{at: at, to: to, from: from, kind: kind, rev: rev, op: op})
	}
	for i := range clients {
		clients[i] = &simClient{id: i, doc: start, cursor: r.IntN(Len16(start) + 1)}
		at := 0
		for range editsPerClient {
			at += 1 + r.IntN(30)
			push(&event{at: at, to: i, kind: "edit"})
		}
	}
	for q.Len() > 0 {
		e := heap.Pop(&q).(*event)
		switch {
		case e.to == -1: // an op arrives at the server
			op := srv.receive(t, e.rev, *e.op)
			for i := range clients {
				if i == e.from {
					send(e.at, -1, i, "ack", 0, nil)
				} else {
					send(e.at, -1, i, "op", 0, &op)
				}
			}
		case e.kind == "edit":
			c := clients[e.to]
			op := randOp(t, r, c.doc)
			if r.IntN(2) == 0 {
				op = randSmallEdit(t, r, c.doc)
			}
			if out := c.edit(t, op); out != nil {
				send(e.at, c.id, -1, "op", c.rev, out)
			}
		case e.kind == "op":
			clients[e.to].serverOp(t, *e.op)
		case e.kind == "ack":
			c := clients[e.to]
			if out := c.ack(t); out != nil {
				send(e.at, c.id, -1, "op", c.rev, out)
			}
		default:
			t.Fatalf("unknown event %+v", e)
		}
	}
	want := srv.doc.String()
	for _, c := range clients {
		if c.inflight != nil || c.buffer != nil {
			t.Fatalf("client %d still has unacknowledged ops", c.id)
		}
		if c.rev != len(srv.history) {
			t.Fatalf("client %d is at revision %d, the server at %d", c.id, c.rev, len(srv.history))
		}
		if c.doc != want {
			t.Fatalf("client %d ends with %q, the server with %q", c.id, c.doc, want)
		}
	}
	// The server's history replayed on the start text gives the same text.
	replay := start
	for _, op := range srv.history {
		replay = mustApply(t, replay, op)
	}
	if replay != want {
		t.Fatalf("history replays to %q, the live document is %q", replay, want)
	}
	return srv.transformed, len(srv.history)
}
