package room

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// fakeClock is a clock the test moves (Config.now).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// typeAt commits n one-character inserts at the end of a note that holds
// one character per revision, from rev on, and returns the new head.
func typeAt(t *testing.T, m *member, seq *uint64, rev scribe.Revision, n int) scribe.Revision {
	t.Helper()
	for range n {
		*seq++
		o := op(t, "a")
		if rev > 0 {
			o = op(t, int(rev), "a")
		}
		m.seat.Submit(*seq, rev, o, nil, time.Now())
		rev++
		m.waitFor(t, "ack", 0, isAck(*seq, int64(rev)))
	}
	return rev
}

// An op far more revisions behind than the history's count but committed
// within its time span is transformed, not closed as too slow (issue 16:
// 1,000 typists, 3,000 ops a second, lost hundreds of clients a few
// seconds behind); one based before the span (and the count) still is.
func TestLateOpWithinSpan(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	h := startHub(t, st, Config{Timing: noPoll, histKeep: 4, now: clock.now})
	id := createNote(t, st, "")
	typist := join(t, h, id, Info{Name: "Typist"})
	late := join(t, h, id, Info{Name: "Late"})

	var seq uint64
	head := typeAt(t, typist, &seq, 0, 40) // 10 times the count kept, all within the span
	late.seat.Submit(1, 0, op(t, "b"), nil, time.Now())
	i := late.waitFor(t, "the late op's ack", 0, func(m protocol.Msg) bool { return m.Type == "ack" })
	if m := late.msg(i); m.Seq != 1 || m.Rev != int64(head)+1 {
		t.Fatalf("late op acked as %+v, want seq 1 rev %d", m, head+1)
	}
	head++

	// Past the span, enough ops to trim: the first 41 revisions go.
	clock.advance(historySpan + time.Second)
	typeAt(t, typist, &seq, head, 80)
	late.seat.Submit(2, 1, op(t, 1, "b"), nil, time.Now())
	if code := late.waitClosed(t); code != protocol.CloseTooSlow {
		t.Fatalf("an op based before the span closed with %d, want %d", code, protocol.CloseTooSlow)
	}
}

// gatedStore holds every Append until the test opens the gate, keeping
// the room's goroutine busy in a commit.
type gatedStore struct {
	scribe.Store
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedStore) Append(ctx context.Context, id scribe.NoteID, expected scribe.Revision, changes []scribe.Change) ([]scribe.Revision, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.gate
	return g.Store.Append(ctx, id, expected, changes)
}

// Selections sent while the room is busy in a commit do not wait for it
// (more of them than any queue holds, from more members than its
// capacity), and once it is free each member's latest one arrives:
// a read pump never blocks in Select (issue 16).
func TestSelectDoesNotBlock(t *testing.T) {
	t.Parallel()
	st := &gatedStore{Store: openBolt(t), entered: make(chan struct{}, 1), gate: make(chan struct{})}
	h := startHub(t, st, Config{Timing: noPoll})
	id := createNote(t, st, "hello")
	writer := join(t, h, id, Info{Name: "Writer"})
	const n = 100 // 3 selections each: more than updatec holds
	seats := make([]*member, n)
	for i := range seats {
		seats[i] = join(t, h, id, Info{Name: "Reader"})
	}

	var open sync.Once // the gate opens on failure too, so that the hub can close
	defer open.Do(func() { close(st.gate) })
	writer.seat.Submit(1, 0, op(t, "x", 5), nil, time.Now())
	<-st.entered // the room is in Append until the gate opens
	selected := make(chan bool)
	go func() {
		ok := true
		for round := range 3 {
			for i, m := range seats {
				ok = m.seat.Select(0, []ot.Range{{Anchor: round, Head: (i + round) % 6}}) && ok
			}
		}
		selected <- ok
	}()
	select {
	case ok := <-selected:
		if !ok {
			t.Fatal("Select reported the room closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Select blocked behind the room's commit for 10 s")
	}
	open.Do(func() { close(st.gate) })
	writer.waitFor(t, "ack", 0, isAck(1, 1))

	// Each reader's last selection (at revision 0) arrives, moved over the
	// writer's insert at 0.
	want := make(map[string]ot.Range, n)
	for i, m := range seats {
		want[m.info.Client] = ot.Range{Anchor: 2 + 1, Head: (i+2)%6 + 1}
	}
	seen := make(map[string]bool, n)
	writer.waitFor(t, "every reader's latest selection", 0, func(m protocol.Msg) bool {
		if r, ok := want[m.Client]; ok && m.Type == "presence" && len(m.Sel) > 2 {
			sel, err := protocol.ParseSel(m.Sel)
			if err == nil && len(sel) == 1 && sel[0] == r {
				seen[m.Client] = true
			}
		}
		return len(seen) == n
	})
}
