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

// endsOnce is a real store whose first subscription ends when cut is
// closed (as a Redis subscription does when the connection drops), and
// whose second Subscribe announces itself on resubscribing and then waits
// for allow: the test commits meanwhile, a change the room can hear of only
// by catching up.
type endsOnce struct {
	scribe.Store
	cut, allow    chan struct{}
	resubscribing chan struct{}

	mu sync.Mutex
	n  int
}

// cutSub is a subscription whose events stop, and whose channel closes,
// when cut is closed.
type cutSub struct {
	scribe.Subscription
	out chan scribe.Event
}

func (c *cutSub) Events() <-chan scribe.Event { return c.out }

func (s *endsOnce) Subscribe(ctx context.Context, id scribe.NoteID) (scribe.Subscription, error) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	switch n {
	case 1:
		sub, err := s.Store.Subscribe(ctx, id)
		if err != nil {
			return nil, err
		}
		c := &cutSub{Subscription: sub, out: make(chan scribe.Event)}
		go func() {
			defer close(c.out)
			for {
				select {
				case ev, ok := <-sub.Events():
					if !ok {
						return
					}
					select {
					case c.out <- ev:
					case <-s.cut:
						return
					}
				case <-s.cut:
					return
				}
			}
		}()
		return c, nil
	case 2:
		close(s.resubscribing)
		select {
		case <-s.allow:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.Subscribe(ctx, id)
}

// A room whose subscription ends subscribes again, catches up on what was
// committed while it was not listening, and keeps committing, broadcasting
// and hearing other nodes' commits through the new subscription. The room
// polls the log only every minute here, so nothing but the re-subscription
// can deliver those commits within the test's waits.
func TestResubscribeCatchesUp(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	es := &endsOnce{Store: st, cut: make(chan struct{}), allow: make(chan struct{}), resubscribing: make(chan struct{})}
	h := startHub(t, es, Config{Timing: Timing{Resync: time.Minute}})
	start := "ab"
	id := createNote(t, st, start)
	n := ot.Len16(start)
	e := join(t, h, id, Info{Name: "Local"})
	f := join(t, h, id, Info{Name: "Watcher"})

	// The subscription ends; while the room re-subscribes another node
	// commits revision 1.
	close(es.cut)
	<-es.resubscribing // the test's own deadline bounds the wait
	if _, err := st.Append(context.Background(), id, 0, []scribe.Change{{Op: []byte(op(t, "X", n).String()), Session: "other-node", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	close(es.allow)
	for _, m := range []*member{e, f} {
		i := m.waitFor(t, "the missed op", 1, isType("op"))
		if got := m.msg(i); got.Rev != 1 || string(got.Op) != `["X",2]` {
			t.Fatalf("%s got %+v, want the missed op as rev 1", m.info.Name, got)
		}
	}

	// The room still commits and broadcasts.
	e.seat.Submit(1, 1, op(t, n+1, "Y"), nil, time.Now())
	i := e.waitFor(t, "the ack", 1, isType("ack"))
	if m := e.msg(i); m.Seq != 1 || m.Rev != 2 {
		t.Fatalf("got %+v, want ack seq 1 rev 2", m)
	}
	j := f.waitFor(t, "the local op", 1, opRev(2))
	if m := f.msg(j); string(m.Op) != `[3,"Y"]` {
		t.Fatalf("watcher got %+v, want the op as rev 2", m)
	}

	// And it hears other nodes through the new subscription.
	if _, err := st.Append(context.Background(), id, 2, []scribe.Change{{Op: []byte(op(t, n+2, "Z").String()), Session: "other-node", Seq: 2}}); err != nil {
		t.Fatal(err)
	}
	k := e.waitFor(t, "the other node's next op", 1, opRev(3))
	if m := e.msg(k); k < i || string(m.Op) != `[4,"Z"]` {
		t.Fatalf("got %+v at %d (the ack at %d), want the other node's op", m, k, i)
	}
	d, err := st.LoadNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := "X" + start + "YZ"; d.Text != want || d.Revision != 3 {
		t.Fatalf("store has %q at %d, want %q at 3", d.Text, d.Revision, want)
	}
}

// opRev matches the op message of revision rev.
func opRev(rev int64) func(protocol.Msg) bool {
	return func(m protocol.Msg) bool { return m.Type == "op" && m.Rev == rev }
}
