package room

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// A selection sent with an op reaches the other local clients inside the op
// message, at the revision the op produced, also when the op is transformed
// over commits it did not know of and over the ops ahead of it in its batch
// (group commit). No local presence message follows for such a move, while
// other nodes are still told of it; a presence message from the same client
// still goes out.
func TestOpSelInBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openBolt(t)
	h, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "Sel", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	// The room is driven from this goroutine instead of run's.
	s := newRoom(h, n.ID)
	if err := s.open(); err != nil {
		t.Fatal(err)
	}
	s.pub = newPublisher(s)
	h.goTracked(s.pub.run)
	t.Cleanup(func() { s.pub.stop(); _ = s.sub.Close(); s.cancel() })
	// What the room publishes for other nodes, heard through a
	// subscription of our own.
	sub, err := st.Subscribe(s.ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	newClient := func(id, session string) *Seat {
		c := &Seat{room: s, m: newRecorder(), id: id, session: session, name: id, color: "#1971c2"}
		s.clients[c] = struct{}{}
		s.direct[c] = struct{}{}
		s.bySess[session] = c
		return c
	}
	x := newClient("c_X", "session-x")
	a := newClient("c_A", "session-a")
	b := newClient("c_B", "session-b")
	o := newClient("c_O", "session-o") // only watches
	op := func(items ...any) ot.Operation {
		t.Helper()
		bl := ot.NewBuilder()
		for _, it := range items {
			switch v := it.(type) {
			case int:
				bl.Retain(v)
			case string:
				bl.Insert(v)
			}
		}
		o, err := bl.Build()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	// Revision 1: X inserts "AB" at the start, without a selection.
	if err := s.commit([]*submission{{c: x, session: x.session, seq: 1, rev: 0, op: op("AB", 5)}}); err != nil {
		t.Fatal(err)
	}
	// One batch, revisions 2 and 3:
	// - A, still at revision 0, appends "xy" to "hello", its cursor after
	//   it (7). Over X's "AB" the op becomes [7,"xy"] and the cursor 9.
	// - B, at revision 1, appends "Q" to "ABhello", its cursor after it (8),
	//   and selects "AB" (1..3) too. Over A's op, ahead of it in the batch,
	//   its insert comes first: "ABhelloQxy"; its cursor, where A's "xy"
	//   goes in, is pushed after it (10), as ot.js moves a selection.
	// - An offset beyond the text (99) is clamped to it (8, before "xy"),
	//   then moved like the others (10).
	err = s.commit([]*submission{
		{c: a, session: a.session, seq: 1, rev: 0, op: op(5, "xy"), sel: []ot.Range{{Anchor: 7, Head: 7}}},
		{c: b, session: b.session, seq: 1, rev: 1, op: op(7, "Q"), sel: []ot.Range{{Anchor: 8, Head: 8}, {Anchor: 3, Head: 1}, {Anchor: 99, Head: 0}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.doc.String(); got != "ABhelloQxy" || s.rev != 3 {
		t.Fatalf("text %q at rev %d", got, s.rev)
	}
	wantA := `{"type":"op","rev":2,"op":[7,"xy"],"client":"c_A","sel":[{"anchor":9,"head":9}]}`
	wantB := `{"type":"op","rev":3,"op":[7,"Q",2],"client":"c_B","sel":[{"anchor":10,"head":10},{"anchor":3,"head":1},{"anchor":10,"head":0}]}`
	wantX := `{"type":"op","rev":1,"op":["AB",5],"client":"c_X"}`
	checkOut := func(c *Seat, want ...string) {
		t.Helper()
		var got []string
		s.flushOut() // as the room's loop does after each turn
		r := c.m.(*recorder)
		r.mu.Lock()
		raw := r.raw
		r.raw, r.msgs = nil, nil
		r.mu.Unlock()
		for _, m := range raw {
			// One message, or a commit's ops joined by commas.
			var parts []json.RawMessage
			if err := json.Unmarshal(append(append([]byte{'['}, m...), ']'), &parts); err != nil {
				t.Fatalf("%s got invalid JSON %s", c.id, m)
			}
			for _, p := range parts {
				got = append(got, string(p))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s got %d messages %q, want %q", c.id, len(got), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s message %d:\n got %s\nwant %s", c.id, i, got[i], want[i])
			}
		}
	}
	// O wrote neither op of the batch: it gets both as one message, joined
	// once for every such member (a deliver per member per commit, not
	// per op); A and B get them one by one, each its ack in its op's place.
	s.flushOut()
	for c, want := range map[*Seat]int{o: 2, a: 3, b: 3} {
		r := c.m.(*recorder)
		r.mu.Lock()
		n := len(r.raw)
		r.mu.Unlock()
		if n != want {
			t.Fatalf("%s was handed %d messages, want %d", c.id, n, want)
		}
	}
	checkOut(o, wantX, wantA, wantB)
	checkOut(a, wantX, `{"type":"ack","seq":1,"rev":2}`, wantB)
	checkOut(b, wantX, wantA, `{"type":"ack","seq":1,"rev":3}`)
	checkOut(x, `{"type":"ack","seq":1,"rev":1}`, wantA, wantB)
	// The session keeps each selection at the revision of its op (A's at 2,
	// before B's "Q" went in), and moves it to the head when asked.
	if want := []ot.Range{{Anchor: 9, Head: 9}}; !equalSel(a.sel, want) || a.selRev != 2 {
		t.Fatalf("A's selection %v at %d, want %v at 2", a.sel, a.selRev, want)
	}
	if got, want := s.selAt(a.sel, a.selRev), []ot.Range{{Anchor: 10, Head: 10}}; !equalSel(got, want) {
		t.Fatalf("A's selection at the head %v, want %v", got, want)
	}

	// The flush tells other nodes, not the local clients.
	if len(s.dirty) != 0 || len(s.moved) != 2 {
		t.Fatalf("dirty %d, moved %d; want 0 and 2", len(s.dirty), len(s.moved))
	}
	s.flushPresence()
	for _, c := range []*Seat{a, b, o, x} {
		checkOut(c)
	}
	published := func() nodeMsg {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev := <-sub.Events():
				var m nodeMsg
				if ev.Message != nil && json.Unmarshal(ev.Message, &m) == nil && m.Kind == kindPresence {
					return m
				}
			case <-timeout:
				t.Fatal("nothing published to other nodes")
			}
		}
	}
	m := published()
	// Each is published at the revision of its op (wireAt); a node that
	// hears it moves it over its own history to its head (message), as
	// selAt does here.
	sels := map[string][]ot.Range{}
	for _, p := range m.Peers {
		if want := map[string]int64{"c_A": 2, "c_B": 3}[p.Client]; int64(p.Rev) != want || !p.HasSel {
			t.Fatalf("published %+v, want it at revision %d", p, want)
		}
		sels[p.Client] = s.selAt(p.Sel, p.Rev)
	}
	if len(sels) != 2 || !equalSel(sels["c_A"], []ot.Range{{Anchor: 10, Head: 10}}) || !equalSel(sels["c_B"], []ot.Range{{Anchor: 10, Head: 10}, {Anchor: 3, Head: 1}, {Anchor: 10, Head: 0}}) {
		t.Fatalf("published selections %v", sels)
	}

	// A presence message (or a rename) from A still reaches the local
	// clients, after an op with a selection as before it.
	s.handleUpdate(seatUpdate{c: a, hasSel: true, rev: 3, sel: []ot.Range{{Anchor: 0, Head: 2}}})
	if err := s.commit([]*submission{{c: a, session: a.session, seq: 2, rev: 3, op: op(10, "!"), sel: []ot.Range{{Anchor: 11, Head: 11}}}}); err != nil {
		t.Fatal(err)
	}
	wantOp := `{"type":"op","rev":4,"op":[10,"!"],"client":"c_A","sel":[{"anchor":11,"head":11}]}`
	s.flushPresence()
	wantPresence := `{"type":"presence","client":"c_A","name":"c_A","color":"#1971c2","readonly":false,"rev":4,"sel":[{"anchor":11,"head":11}]}`
	checkOut(o, wantOp, wantPresence)
	if len(s.dirty) != 0 || len(s.moved) != 0 {
		t.Fatalf("dirty %d, moved %d after the flush", len(s.dirty), len(s.moved))
	}
	// An op without a selection moves nobody's presence.
	if err := s.commit([]*submission{{c: b, session: b.session, seq: 2, rev: 4, op: op(11, "?")}}); err != nil {
		t.Fatal(err)
	}
	checkOut(o, `{"type":"op","rev":5,"op":[11,"?"],"client":"c_B"}`)
	if len(s.dirty) != 0 || len(s.moved) != 0 {
		t.Fatalf("dirty %d, moved %d after an op without a selection", len(s.dirty), len(s.moved))
	}
}
