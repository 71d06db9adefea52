package server_test

import (
	"context"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server"
)

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

// A commit by another writer that the session has not heard of makes its
// append fail with ECONFLICT; the session reads the change from the log,
// forwards it, transforms the op over it and commits it after it.
func TestConflictCatchUpAndRetry(t *testing.T) {
	bolt := newBoltStore(t)
	node := startNode(t, dropChanges{bolt}, server.Limits{})
	id := node.createNote("Conflict", "blank")
	start := node.text(id)
	n := ot.Len16(start)
	e := newEditor(t, node, id, "Local", 1)

	// Another node commits revision 1; this node does not hear of it.
	other := mustOp(t, "X", n)
	if _, err := bolt.Append(context.Background(), id, 0, []scribe.Change{{Op: []byte(other.String()), Session: "other-node", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	e.send(map[string]any{"type": "op", "rev": 0, "seq": 1, "op": mustOp(t, n, "Y")})
	if m := nextNonPresence(e.wsClient); m.Type != "op" || m.Rev != 1 {
		t.Fatalf("got %+v, want the other node's op as rev 1", m)
	}
	if m := nextNonPresence(e.wsClient); m.Type != "ack" || m.Seq != 1 || m.Rev != 2 {
		t.Fatalf("got %+v, want ack seq 1 rev 2", m)
	}
	if got, want := node.text(id), "X"+start+"Y"; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	if v := metricValue(t, node, "scribe_commit_conflicts_total"); v != "1" {
		t.Fatalf("conflicts counted: %s, want 1", v)
	}
}

// A commit whose notification was lost reaches the clients anyway: the
// session polls the log.
func TestLostNotificationPolled(t *testing.T) {
	t.Parallel()
	bolt := newBoltStore(t)
	node := startNodeTiming(t, dropChanges{bolt}, server.Limits{}, shortTimers)
	id := node.createNote("Polled", "blank")
	e := newEditor(t, node, id, "Local", 1)
	op := mustOp(t, "Z", ot.Len16(e.doc))
	if _, err := bolt.Append(context.Background(), id, 0, []scribe.Change{{Op: []byte(op.String()), Session: "other-node", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	e.settle(1)
	if e.doc != node.text(id) {
		t.Fatalf("client %q, store %q", e.doc, node.text(id))
	}
}
