package room

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// In a batch of many ops, each author is handed a few messages, not one per
// op: the ops before its own joined as one, its ack, the ops after it
// joined as one (slices of the batch's one joined buffer). A second
// connection of an author's session gets that op's ack in its place too.
// Each member still sees every op once, in revision order, with its acks
// where its ops are.
func TestBatchFanoutSlices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openBolt(t)
	h, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "Fan", Text: ""})
	if err != nil {
		t.Fatal(err)
	}
	s := newRoom(h, n.ID)
	if err := s.open(); err != nil {
		t.Fatal(err)
	}
	s.pub = newPublisher(s)
	h.goTracked(s.pub.run)
	t.Cleanup(func() { s.pub.stop(); _ = s.sub.Close(); s.cancel() })

	newClient := func(id, session string) *Seat {
		c := &Seat{room: s, m: newRecorder(), id: id, session: session, name: id, color: "#1971c2"}
		s.clients[c] = struct{}{}
		s.direct[c] = struct{}{}
		s.bySess[session] = c
		return c
	}
	const authors = 8
	var seats []*Seat
	var batch []*submission
	for i := range authors {
		c := newClient(fmt.Sprintf("c_%d", i), fmt.Sprintf("session-%d", i))
		seats = append(seats, c)
		// Each appends one letter at the end of the text at revision 0
		// (empty): transformed over the ones ahead of it in the batch.
		bl := ot.NewBuilder()
		bl.Insert(string(rune('a' + i)))
		o, err := bl.Build()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &submission{c: c, session: c.session, seq: 1, rev: 0, op: o})
	}
	twin := newClient("c_3b", "session-3") // a second connection of author 3's session
	watcher := newClient("c_w", "session-w")
	if err := s.commit(batch); err != nil {
		t.Fatal(err)
	}
	s.flushOut()

	// What each member should see, message by message: "op r" or "ack r".
	want := func(own int) []string {
		var out []string
		for i := range authors {
			if i == own {
				out = append(out, fmt.Sprintf("ack %d", i+1))
			} else {
				out = append(out, fmt.Sprintf("op %d", i+1))
			}
		}
		return out
	}
	check := func(c *Seat, own int, maxHanded int) {
		t.Helper()
		r := c.m.(*recorder)
		r.mu.Lock()
		raw, msgs := len(r.raw), r.msgs
		r.mu.Unlock()
		var got []string
		for _, m := range msgs {
			switch m.Type {
			case "op":
				got = append(got, fmt.Sprintf("op %d", m.Rev))
			case "ack":
				got = append(got, fmt.Sprintf("ack %d", m.Rev))
			default:
				b, _ := json.Marshal(m)
				got = append(got, string(b))
			}
		}
		w := want(own)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("%s saw %v, want %v", c.id, got, w)
		}
		if raw > maxHanded {
			t.Fatalf("%s was handed %d messages for a batch of %d ops, want at most %d", c.id, raw, authors, maxHanded)
		}
	}
	for i, c := range seats {
		check(c, i, 3)
	}
	check(twin, 3, 3)
	check(watcher, -1, 1)
	if got := s.doc.String(); len(got) != authors {
		t.Fatalf("text %q", got)
	}
}

// nopMember takes what the room hands it and drops it.
type nopMember struct{}

func (nopMember) Welcome([][]byte)        {}
func (nopMember) Deliver([][]byte, bool)  {}
func (nopMember) Close(int, string, bool) {}

// BenchmarkCommit1000 is one turn of the room at 1,000 typists on a note
// (issue 16, target 3): a batch of 500 one-character inserts, one from each
// of 500 members, each based 500 revisions behind the head (the batch
// before it), with the author's cursor; then the fan-out to all 1,000 and
// the hand-over (flushOut) to members that drop what they get. The store's
// append (embedded, with its fsync) is in it; the write pumps are not.
func BenchmarkCommit1000(b *testing.B) {
	const members, batchOps = 1000, 500
	ctx := context.Background()
	st := openBolt(b)
	h, err := New(Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "Bench", Text: strings.Repeat("0123456789\n", 400)})
	if err != nil {
		b.Fatal(err)
	}
	s := newRoom(h, n.ID)
	if err := s.open(); err != nil {
		b.Fatal(err)
	}
	s.pub = newPublisher(s)
	h.goTracked(s.pub.run)
	b.Cleanup(func() { s.pub.stop(); _ = s.sub.Close(); s.cancel() })
	var seats []*Seat
	for i := range members {
		c := &Seat{room: s, m: nopMember{}, id: fmt.Sprintf("c_%d", i), session: fmt.Sprintf("session-%d", i), name: "n", color: "#1971c2"}
		s.clients[c], s.direct[c], s.editors[c] = struct{}{}, struct{}{}, struct{}{}
		s.bySess[c.session] = c
		seats = append(seats, c)
	}
	seqs := make([]uint64, members)
	turn := 0
	// batch builds 500 inserts based on revision base, whose text is
	// length units long, from the members of this turn's half.
	batch := func(base scribe.Revision, length int) []*submission {
		out := make([]*submission, 0, batchOps)
		for i := range batchOps {
			m := (turn%2)*batchOps + i
			pos := (m * 37) % length
			bl := ot.NewBuilder()
			bl.Retain(pos)
			bl.Insert("x")
			bl.Retain(length - pos)
			o, err := bl.Build()
			if err != nil {
				b.Fatal(err)
			}
			seqs[m]++
			c := seats[m]
			out = append(out, &submission{c: c, session: c.session, seq: seqs[m], rev: base, op: o, sel: []ot.Range{{Anchor: pos + 1, Head: pos + 1}}, selSeq: seqs[m]})
		}
		turn++
		return out
	}
	length := func(rev scribe.Revision) int { return 4400 + int(rev) }
	// Two batches first, so that each measured one is based a batch behind.
	for range 2 {
		base := max(s.rev-batchOps, 0)
		if err := s.commit(batch(base, length(base))); err != nil {
			b.Fatal(err)
		}
		s.flushOut()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		base := s.rev - batchOps
		subs := batch(base, length(base))
		b.StartTimer()
		if err := s.commit(subs); err != nil {
			b.Fatal(err)
		}
		s.flushOut()
		s.flushPresence()
	}
}
