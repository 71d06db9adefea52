package loadtest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/internal/testframes"
)

// A bot logs each frame's run of revisions and records their latencies
// later: an arrival before its author's ack is counted once the ack has
// named the send time, and a revision that never gets one is not counted.
func TestSettleArrivals(t *testing.T) {
	r := &run{}
	r.t0.Store(1)
	b := &bot{r: r, timed: true}
	ms := int64(time.Millisecond)
	r.revs.sent(1, 100*ms, 90*ms)
	b.onRemoteOps(1, 2, time.Unix(0, 110*ms)) // revision 2 not acknowledged yet
	b.onRemoteOps(3, 3, time.Unix(0, 130*ms)) // revision 3 never is

	// A long run settles as it goes: the first arrival waits for
	// revision 2's ack, and with it everything after it.
	b.arrMu.Lock()
	b.settleLocked(50 * ms)
	n := len(b.arrivals)
	b.arrMu.Unlock()
	if n != 2 || b.bcast.n != 0 {
		t.Fatalf("after a partial settle: %d arrivals left, %d latencies recorded; want 2, 0", n, b.bcast.n)
	}

	r.revs.sent(2, 105*ms, 101*ms)
	b.arrMu.Lock()
	b.settleLocked(50 * ms)
	n = len(b.arrivals)
	b.arrMu.Unlock()
	if n != 1 || b.bcast.n != 2 {
		t.Fatalf("after revision 2's ack: %d arrivals left, %d latencies recorded; want 1, 2", n, b.bcast.n)
	}

	// An arrival older than the cut-off is settled even with a revision
	// that has no send time: that one is not counted.
	b.onRemoteOps(4, 4, time.Unix(0, 200*ms))
	b.arrMu.Lock()
	b.settleLocked(150 * ms)
	n = len(b.arrivals)
	b.arrMu.Unlock()
	if n != 1 || b.bcast.n != 2 {
		t.Fatalf("after the cut-off passed revision 3's arrival: %d arrivals left, %d latencies recorded; want 1, 2", n, b.bcast.n)
	}

	b.settle()
	if len(b.arrivals) != 0 || b.bcast.n != 2 || b.keys.n != 2 {
		t.Fatalf("after the run: %d arrivals left, %d broadcast and %d keystroke latencies; want 0, 2, 2", len(b.arrivals), b.bcast.n, b.keys.n)
	}
	// 110-100 and 110-105 ms; from the keystrokes, 110-90 and 110-101.
	if max := b.bcast.max; max != 10000 {
		t.Fatalf("largest broadcast latency %d us, want 10000", max)
	}
	if max := b.keys.max; max != 20000 {
		t.Fatalf("largest keystroke latency %d us, want 20000", max)
	}
}

// A frame is read into a buffer the bots share (frameBufs), reused for the
// next frame of any bot: nothing a bot keeps, nor the run's record of the
// revisions, may point into it. Two bots read the same frames, one from a
// single buffer overwritten after each frame, the other from frames of
// its own: they must end in the same state, with the record intact.
func TestFrameBufferReuse(t *testing.T) {
	const batch, n = 5, 1000
	frames := testframes.OpFrames(8, batch, n)
	log := &refLog{}
	if err := log.welcome(0, strings.Repeat("x", n)); err != nil {
		t.Fatal(err)
	}
	shared, own := newBenchBot(log, n, 1), newBenchBot(log, n, 1)
	var buf []byte
	for i, f := range frames {
		buf = append(buf[:0], f...)
		if err := shared.handleFrame(buf, time.Now()); err != nil {
			t.Fatalf("frame %d, shared buffer: %v", i, err)
		}
		for k := range buf {
			buf[k] = '#' // the next reader's bytes
		}
		if err := own.handleFrame(bytes.Clone(f), time.Now()); err != nil {
			t.Fatalf("frame %d, own copy: %v", i, err)
		}
	}
	if shared.m.Revision() != own.m.Revision() || shared.m.Len() != own.m.Len() || shared.m.Revision() != int64(len(frames)*batch) {
		t.Fatalf("shared buffer: revision %d length %d; own copies: revision %d length %d", shared.m.Revision(), shared.m.Len(), own.m.Revision(), own.m.Len())
	}
	text, err := log.replay(shared.m.Revision())
	if err != nil {
		t.Fatal(err)
	}
	if want := n + len(frames)*batch; len(text) != want || strings.Contains(text, "#") {
		t.Fatalf("the record replayed gives %d units (want %d), with overwritten bytes: %v", len(text), want, strings.Contains(text, "#"))
	}
}
