package room

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// The in-memory history stays bounded by count and by bytes, and always
// lines up with the head revision.
func TestHistoryBounded(t *testing.T) {
	t.Parallel()
	s := newRoom(&Hub{ctx: context.Background()}, "x")
	defer s.cancel()
	// A commit every 10 ms: the span (historySpan) holds fewer ops than
	// the count (historyKeep), which bounds the history here.
	clock := time.Unix(1e9, 0)
	s.cfg.now = func() time.Time { clock = clock.Add(10 * time.Millisecond); return clock }
	check := func() {
		t.Helper()
		if s.histBase+scribe.Revision(len(s.hist)) != s.rev {
			t.Fatalf("history [%d, +%d) does not end at the head %d", s.histBase, len(s.hist), s.rev)
		}
		if len(s.hist) == 0 {
			t.Fatal("history emptied")
		}
		if len(s.histOps) != len(s.hist) {
			t.Fatalf("histOps holds %d ops for %d entries", len(s.histOps), len(s.hist))
		}
		if len(s.hist) > 2*historyKeep || s.histSize > historyMaxBytes {
			t.Fatalf("history holds %d entries, %d bytes", len(s.hist), s.histSize)
		}
		sum := 0
		for _, e := range s.hist {
			sum += entrySize(e)
		}
		if sum != s.histSize {
			t.Fatalf("histSize %d, entries add up to %d", s.histSize, sum)
		}
		// push trims in place: what it dropped must not stay reachable
		// in the array behind the slice.
		for i, e := range s.hist[len(s.hist):cap(s.hist)] {
			if e.opJSON != nil || e.session != "" {
				t.Fatalf("a dropped entry is still held %d past the history's end", i)
			}
		}
	}
	big := json.RawMessage(`["` + strings.Repeat("a", 1<<20) + `"]`)
	for i := range 100 {
		s.push(histEntry{opJSON: big, session: "s1", seq: uint64(i + 1)})
		check()
	}
	small := json.RawMessage(`[1,"a"]`)
	n := 3 * historyKeep // past the count bound
	for i := range n {
		s.push(histEntry{opJSON: small, session: "s2", seq: uint64(i + 1)})
		check()
	}
	if len(s.hist) > 2*historyKeep || len(s.hist) < historyKeep {
		t.Fatalf("history holds %d small entries, want %d to %d", len(s.hist), historyKeep, 2*historyKeep)
	}
	if s.lastSeq["s1"].seq != 100 || s.lastSeq["s2"] != (seqRev{uint64(n), scribe.Revision(n + 100)}) {
		t.Fatalf("lastSeq = %v", s.lastSeq)
	}
}

// BenchmarkPush is the history's share of one commit: a keystroke's entry
// recorded as the next revision, the history trimmed when it is full.
func BenchmarkPush(b *testing.B) {
	s := newRoom(&Hub{ctx: context.Background()}, "x")
	defer s.cancel()
	op := json.RawMessage(`[120,"a",80]`)
	b.ReportAllocs()
	for i := range b.N {
		s.push(histEntry{opJSON: op, session: "s", seq: uint64(i + 1)})
	}
}
