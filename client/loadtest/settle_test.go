package loadtest

import (
	"testing"
	"time"
)

// A bot logs each frame's run of revisions and records their latencies
// later: an arrival before its author's ack is counted once the ack has
// named the send time, and a revision that never gets one is not counted.
func TestSettleArrivals(t *testing.T) {
	r := &run{}
	r.t0.Store(1)
	b := &bot{r: r}
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
