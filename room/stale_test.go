package room

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

// countChanges is a real store that counts its Changes calls that read
// history (not the room's poll for commits past its head, which reads to
// math.MaxInt64).
type countChanges struct {
	scribe.Store
	n atomic.Int64
}

func (c *countChanges) Changes(ctx context.Context, id scribe.NoteID, from, to scribe.Revision) ([]scribe.Change, error) {
	if to != math.MaxInt64 {
		c.n.Add(1)
	}
	return c.Store.Changes(ctx, id, from, to)
}

// noPoll is shortTiming without the resync poll, whose reads would be
// counted.
var noPoll = func() Timing { t := shortTiming; t.Resync = time.Hour; return t }()

// bigHistory commits n revisions that insert, then delete, size bytes:
// history far beyond a small in-memory budget, on a note that stays empty.
func bigHistory(t *testing.T, h *Hub, id scribe.NoteID, n, size int) scribe.Revision {
	t.Helper()
	big := join(t, h, id, Info{Name: "Paster"})
	blob := strings.Repeat("p", size)
	var rev scribe.Revision
	for i := range n {
		o := op(t, blob)
		if i%2 == 1 {
			o = op(t, -size)
		}
		big.seat.Submit(uint64(i+1), rev, o, nil, time.Now())
		rev++
		big.waitFor(t, "ack", 0, isAck(uint64(i+1), int64(rev)))
	}
	big.seat.Leave()
	return rev
}

// A flood of ops based on revision 0, far behind a history of big edits
// that does not fit in memory, reads nothing from the store and leaves a
// typist's ack latency where it was: each flooding op closes its
// connection (4000) instead of re-reading history per op (issue 12, item 3:
// ops with "rev": 0 after 246 revisions of 200 KB made another user's
// acks go from 20 ms to 14 s).
func TestStaleBaseFlood(t *testing.T) {
	t.Parallel()
	st := &countChanges{Store: openBolt(t)}
	h := startHub(t, st, Config{Timing: noPoll, histMaxBytes: 64 << 10})
	id := createNote(t, st, "")
	head := bigHistory(t, h, id, 40, 16<<10)

	typist := join(t, h, id, Info{Name: "Typist"})
	seq, rev := uint64(0), head
	typeOne := func() time.Duration {
		seq++
		start := time.Now()
		o := op(t, "t")
		if seq > 1 {
			o = op(t, int(seq-1), "t")
		}
		typist.seat.Submit(seq, rev, o, nil, start)
		rev++
		typist.waitFor(t, "ack", 0, isAck(seq, int64(rev)))
		return time.Since(start)
	}
	p50 := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	const samples = 60
	var quiet []time.Duration
	for range samples {
		quiet = append(quiet, typeOne())
		time.Sleep(5 * time.Millisecond)
	}

	flooder := join(t, h, id, Info{Name: "Flooder"})
	reads := st.n.Load()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 60 stale ops a second, the allowed rate, for as long as the typist types
		defer wg.Done()
		tick := time.NewTicker(time.Second / 60)
		defer tick.Stop()
		for i := uint64(1); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			flooder.seat.Submit(i, 0, op(t, "z"), nil, time.Now())
		}
	}()
	var flooded []time.Duration
	for range samples {
		flooded = append(flooded, typeOne())
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	if code := flooder.waitClosed(t); code != protocol.CloseTooSlow {
		t.Fatalf("flooder closed with %d, want %d", code, protocol.CloseTooSlow)
	}
	if n := st.n.Load() - reads; n != 0 {
		t.Errorf("the flood read history from the store %d times", n)
	}
	q, f := p50(quiet), p50(flooded)
	t.Logf("typist's p50 ack: %v quiet, %v during the flood", q, f)
	// The regression this guards against was 700x (20 ms to 14 s); here
	// the flood's own goroutine and submissions cost the typist 2-3x on a
	// quiet machine, and a loaded one (make test, go test -race) has seen
	// 6x. 10x tells the two apart.
	if f > 10*q {
		t.Errorf("typist's p50 ack went from %v to %v during the flood", q, f)
	}
}

// Clients reconnecting with a revision older than the history in memory
// get a catch-up when the history since fits the budget (read once), and
// the full text when it does not, without reading the store again per
// client.
func TestOldRevJoinReadsOnce(t *testing.T) {
	t.Parallel()
	st := &countChanges{Store: openBolt(t)}
	h := startHub(t, st, Config{Timing: noPoll, histMaxBytes: 256 << 10})
	id := createNote(t, st, "")
	head := bigHistory(t, h, id, 40, 16<<10)
	keep := join(t, h, id, Info{Name: "Keeper"}) // keeps the room open

	reads := st.n.Load()
	for range 10 {
		m := join(t, h, id, Info{Name: "Old", HasRev: true, Rev: 0})
		if w := m.msg(0); w.Catchup || !w.HasText || w.Rev != int64(head) {
			t.Fatalf("old client's welcome: %+v", w)
		}
		m.seat.Leave()
	}
	if n := st.n.Load() - reads; n > 1 {
		t.Errorf("10 joins at revision 0 read history %d times, want at most once", n)
	}
	// A client a few revisions behind what memory holds gets a catch-up,
	// read once; the next such client is served from memory.
	reads = st.n.Load()
	for range 3 {
		m := join(t, h, id, Info{Name: "Recent", HasRev: true, Rev: head - 3})
		if w := m.msg(0); !w.Catchup || w.Rev != int64(head) {
			t.Fatalf("recent client's welcome: catchup %v, rev %d", w.Catchup, w.Rev)
		}
		for i := 1; i <= 3; i++ {
			if o := m.msg(i); o.Type != "op" || o.Rev != int64(head)-3+int64(i) {
				t.Fatalf("catch-up message %d: %s rev %d", i, o.Type, o.Rev)
			}
		}
		m.seat.Leave()
	}
	if n := st.n.Load() - reads; n > 1 {
		t.Errorf("3 joins 3 revisions behind read history %d times, want at most once", n)
	}
	keep.seat.Leave()
}
