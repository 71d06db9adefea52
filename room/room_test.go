package room

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// counters is a Metrics that counts, and lets a test wait for the number
// of open rooms.
type counters struct {
	noMetrics
	mu        sync.Mutex
	changed   chan struct{}
	open      int
	conflicts int
}

func newCounters() *counters { return &counters{changed: make(chan struct{})} }

func (c *counters) RoomsOpen(delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open += delta
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *counters) Conflict() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conflicts++
}

func (c *counters) waitOpen(t *testing.T, want int) {
	t.Helper()
	for {
		c.mu.Lock()
		open, ch := c.open, c.changed
		c.mu.Unlock()
		if open == want {
			return
		}
		<-ch // the test's own deadline bounds the wait
	}
}

// op builds an operation from retains (ints) and inserts (strings).
func op(t testing.TB, items ...any) ot.Operation {
	t.Helper()
	o, err := ot.New(items...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func isType(typ string) func(protocol.Msg) bool {
	return func(m protocol.Msg) bool { return m.Type == typ }
}

func isAck(seq uint64, rev int64) func(protocol.Msg) bool {
	return func(m protocol.Msg) bool { return m.Type == "ack" && m.Seq == seq && m.Rev == rev }
}

// A room closes itself once its last member has been gone for the grace
// period, and the note opens again for the next member.
func TestIdleRoomCloses(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	metrics := newCounters()
	h := startHub(t, st, Config{Timing: shortTiming, Metrics: metrics})
	id := createNote(t, st, "")
	a := join(t, h, id, Info{Name: "First"})
	metrics.waitOpen(t, 1)
	a.seat.Submit(1, 0, op(t, "x"), nil, time.Now())
	a.waitFor(t, "ack", 0, isAck(1, 1))
	a.seat.Leave()
	metrics.waitOpen(t, 0)
	b := join(t, h, id, Info{Name: "Second"})
	if w := b.msg(0); w.Rev != 1 || !w.HasText || w.Text != "x" {
		t.Fatalf("reopened at rev %d with %q", w.Rev, w.Text)
	}
	b.seat.Submit(1, 1, op(t, 1, "y"), nil, time.Now())
	b.waitFor(t, "ack", 0, isAck(1, 2))
}

// A peer announced by a node that then falls silent (it died) expires, and
// the members are told it left.
func TestSilentNodePeerExpires(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	h := startHub(t, st, Config{Timing: shortTiming})
	id := createNote(t, st, "")
	a := join(t, h, id, Info{Name: "Alive"})
	msg, _ := json.Marshal(map[string]any{"v": 1, "node": "n_dead", "kind": "presence",
		"peers": []map[string]any{{"client": "c_ghost", "name": "Ghost", "color": "#000000", "rev": 0, "sel": []map[string]int{{"anchor": 0, "head": 0}}, "hasSel": true}}})
	if err := st.Publish(context.Background(), id, msg); err != nil {
		t.Fatal(err)
	}
	i := a.waitFor(t, "the ghost's presence", 0, func(m protocol.Msg) bool {
		return m.Type == "presence" && m.Client == "c_ghost" && m.Name() == "Ghost"
	})
	a.waitFor(t, "the ghost's leave", i+1, func(m protocol.Msg) bool { return m.Type == "leave" && m.Client == "c_ghost" })
}

// A share revoked where no revocation message reaches the node (here:
// straight in the store) still closes its live viewers, through the
// periodic re-check.
func TestRevocationRecheck(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	h := startHub(t, st, Config{Timing: shortTiming})
	id := createNote(t, st, "")
	sh, err := st.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ro := join(t, h, id, Info{Name: "Viewer", ReadOnly: true, Token: sh.Token})
	if err := st.RevokeShare(context.Background(), sh.Token); err != nil {
		t.Fatal(err)
	}
	if code := ro.waitClosed(t); code != protocol.CloseNotFound {
		t.Fatalf("closed with %d, want %d", code, protocol.CloseNotFound)
	}
	if _, err := st.ResolveShare(context.Background(), sh.Token); scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatal(err)
	}
}

// dropChanges is a real store whose subscriptions lose every committed
// change (the contract allows dropped events) while still delivering
// published messages: a node that did not hear another node's commit.
type dropChanges struct{ scribe.Store }

type filteredSub struct {
	scribe.Subscription
	out chan scribe.Event
}

func (f *filteredSub) Events() <-chan scribe.Event { return f.out }

func (d dropChanges) Subscribe(ctx context.Context, id scribe.NoteID) (scribe.Subscription, error) {
	sub, err := d.Store.Subscribe(ctx, id)
	if err != nil {
		return nil, err
	}
	f := &filteredSub{Subscription: sub, out: make(chan scribe.Event, 64)}
	go func() {
		defer close(f.out)
		for ev := range sub.Events() {
			if ev.Change == nil {
				f.out <- ev
			}
		}
	}()
	return f, nil
}

// A commit by another writer that the room has not heard of makes its
// append fail with ECONFLICT; the room reads the change from the log,
// forwards it, transforms the op over it and commits it after it.
func TestConflictCatchUpAndRetry(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	metrics := newCounters()
	h := startHub(t, dropChanges{st}, Config{Metrics: metrics})
	start := "start"
	id := createNote(t, st, start)
	n := ot.Len16(start)
	e := join(t, h, id, Info{Name: "Local"})

	// Another node commits revision 1; this node does not hear of it.
	other := op(t, "X", n)
	if _, err := st.Append(context.Background(), id, 0, []scribe.Change{{Op: []byte(other.String()), Session: "other-node", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	e.seat.Submit(1, 0, op(t, n, "Y"), nil, time.Now())
	i := e.waitFor(t, "the other node's op", 1, isType("op"))
	if m := e.msg(i); m.Rev != 1 {
		t.Fatalf("got %+v, want the other node's op as rev 1", m)
	}
	j := e.waitFor(t, "the ack", 1, isType("ack"))
	if m := e.msg(j); j < i || m.Seq != 1 || m.Rev != 2 {
		t.Fatalf("got %+v at %d, want ack seq 1 rev 2 after the op at %d", m, j, i)
	}
	d, err := st.LoadNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := "X" + start + "Y"; d.Text != want {
		t.Fatalf("text %q, want %q", d.Text, want)
	}
	metrics.mu.Lock()
	defer metrics.mu.Unlock()
	if metrics.conflicts != 1 {
		t.Fatalf("conflicts counted: %d, want 1", metrics.conflicts)
	}
}

// A commit whose notification was lost reaches the members anyway: the
// room polls the log.
func TestLostNotificationPolled(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	h := startHub(t, dropChanges{st}, Config{Timing: shortTiming})
	id := createNote(t, st, "ab")
	e := join(t, h, id, Info{Name: "Local"})
	if _, err := st.Append(context.Background(), id, 0, []scribe.Change{{Op: []byte(op(t, "Z", 2).String()), Session: "other-node", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	i := e.waitFor(t, "the polled op", 1, isType("op"))
	if m := e.msg(i); m.Rev != 1 || string(m.Op) != `["Z",2]` {
		t.Fatalf("got %+v", m)
	}
}

// Presence between nodes through a real Redis: a member's selection reaches
// a member of another node with name and colour at that member's revision,
// a newcomer's welcome lists the peers of both nodes, and a leave follows.
func TestPresenceAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "roomtest")
	sa, sb := redistest.Open(t, prefix), redistest.Open(t, prefix)
	a := startHub(t, sa, Config{})
	b := startHub(t, sb, Config{})
	id := createNote(t, sa, "hello")
	x := join(t, a, id, Info{Name: "Xavier"})
	y := join(t, b, id, Info{Name: "Yvonne"})
	x.seat.Select(0, []ot.Range{{Anchor: 1, Head: 3}})
	i := y.waitFor(t, "Xavier's selection", 1, func(m protocol.Msg) bool {
		return m.Type == "presence" && m.Name() == "Xavier" && len(m.Sel) > 2
	})
	m := y.msg(i)
	sel, err := protocol.ParseSel(m.Sel)
	if err != nil || len(sel) != 1 || sel[0] != (ot.Range{Anchor: 1, Head: 3}) || m.Color() == "" || m.Rev != 0 {
		t.Fatalf("presence = %+v (sel %v, %v)", m, sel, err)
	}
	// A third member joining b lists both in its welcome.
	z := join(t, b, id, Info{Name: "Zed"})
	var peers []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(z.msg(0).Peers, &peers); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range peers {
		names[p.Name] = true
	}
	if !names["Xavier"] || !names["Yvonne"] || len(peers) != 2 {
		t.Fatalf("welcome peers = %+v", peers)
	}
	x.seat.Leave()
	z.waitFor(t, "Xavier's leave", 1, func(m protocol.Msg) bool { return m.Type == "leave" && m.Client == x.info.Client })
}

// TestGather: a batch takes every submission queued behind its first; in a
// note with several editors it goes on gathering, in order, until its time
// is up or the room stops; an editor alone never waits. (The first op is
// dated an hour ahead, so that only stop or a full batch ends the
// gathering: the test waits on events, not on the clock.)
func TestGather(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(time.Hour)
	newRoomWith := func(editors int) *Room {
		rm := &Room{submitc: make(chan *submission, 8), stopc: make(chan struct{}), editors: make(map[*Seat]struct{})}
		for range editors {
			rm.editors[&Seat{}] = struct{}{}
		}
		return rm
	}
	timer := func() *time.Timer {
		tm := time.NewTimer(time.Hour)
		tm.Stop()
		return tm
	}
	subs := []*submission{{seq: 1, received: later}, {seq: 2}, {seq: 3}, {seq: 4}}
	seqs := func(b []*submission) []uint64 {
		var out []uint64
		for _, s := range b {
			out = append(out, s.seq)
		}
		return out
	}

	alone := newRoomWith(1)
	alone.submitc <- subs[1]
	if got := seqs(alone.gather(subs[0], timer())); !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("one editor: batch %v, want [1 2] at once", got)
	}

	busy := newRoomWith(100)
	busy.submitc = make(chan *submission) // unbuffered: a send returns once gather has taken it
	done := make(chan []*submission)
	go func() { done <- busy.gather(subs[0], timer()) }()
	for _, s := range subs[1:] {
		select {
		case busy.submitc <- s:
		case b := <-done:
			t.Fatalf("100 editors: gather returned %v before the room stopped", seqs(b))
		}
	}
	close(busy.stopc)
	if got := seqs(<-done); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("100 editors: batch %v, want [1 2 3 4]", got)
	}
}
