package room

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/redis/proxytest"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestLateAppendAnswer: Redis commits a keystroke but its answer to the
// append comes after the store's read timeout. The store cannot know the
// outcome and says so (EUNAVAILABLE, store/redis TestLateAppendReplyIsNotRetried),
// so the room ends and its member, told it could not save, reconnects: the
// welcome's lastSeq, read from the store's (session, seq) record, tells it
// the keystroke is committed, and the note holds it once. (Before the store stopped
// go-redis from sending the append again, the room heard ECONFLICT,
// caught up on its own keystroke and acked it from its dedup: also once.
// This test holds the room to "once, and acked" whichever the store says.)
func TestLateAppendAnswer(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "roomtest")
	p := proxytest.Start(t, redistest.Addr)
	url := fmt.Sprintf("redis://%s/0?read_timeout=300ms&write_timeout=%s", p.Addr(), redistest.Timeout)
	st, err := redis.New(url, redis.Options{Prefix: prefix, CallTimeout: redistest.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := startHub(t, st, Config{})
	id := createNote(t, st, "hello")
	a := join(t, h, id, Info{Name: "Ada"})
	a.seat.Submit(1, 0, op(t, 5, "!"), nil, time.Now())
	a.waitFor(t, "the first ack", 1, isAck(1, 1))

	// Only the append names the session's submission list.
	p.Arm(prefix + "note:{" + string(id) + "}:seqrevs:" + a.info.Session)
	a.seat.Submit(2, 1, op(t, 6, "?"), nil, time.Now())
	<-p.Seen() // Redis has the append; its answer is held
	acked := waitAckOrClose(t, a.recorder, 2, 2)
	p.Release()
	if !acked {
		// The room ended: Ada reconnects. Her welcome's lastSeq says her
		// unacknowledged op is committed, in the text it brings
		// (docs/protocol.md), so she does not resend it.
		b := join(t, h, id, Info{Name: "Ada", Session: a.info.Session})
		if w := b.msg(0); w.Type != "welcome" || w.LastSeq != 2 || w.Rev != 2 || w.Text != "hello!?" {
			t.Fatalf("welcome after the reconnect: %+v; want lastSeq 2, \"hello!?\" at 2", w)
		}
	}
	d, err := st.LoadNote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != "hello!?" || d.Revision != 2 {
		t.Fatalf("the note is %q at revision %d, want \"hello!?\" at 2", d.Text, d.Revision)
	}
}

// waitAckOrClose waits until r has the ack of seq as rev (true) or is
// closed (false).
func waitAckOrClose(t *testing.T, r *recorder, seq uint64, rev int64) bool {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		closed, ch := r.closed, r.changed
		for _, m := range r.msgs {
			if m.Type == "ack" && m.Seq == seq {
				r.mu.Unlock()
				if m.Rev != rev {
					t.Fatalf("ack of seq %d as revision %d, want %d", seq, m.Rev, rev)
				}
				return true
			}
		}
		r.mu.Unlock()
		if closed {
			return false
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatal("neither an ack nor a close within 10 s")
		}
	}
}
