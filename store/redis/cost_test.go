package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// BenchmarkHistoryCost measures what a note's history costs in Redis
// memory: MEMORY USAGE summed over the note's keys after typing n
// keystrokes (storetest.Typed), less the same note with none, per 1,000
// edits ("B/1000-edits"), once the snapshot worker has caught up. The
// figures are in docs/operations.md ("History: what a note's past costs").
//
//	go test -run XXX -bench HistoryCost -benchtime 1x ./store/redis/
func BenchmarkHistoryCost(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("edits=%d", n), func(b *testing.B) {
			for b.Loop() {
				s := openStore(b, backends[0], Options{})
				empty := noteMemory(b, s, storetest.Typed(b, s, 0))
				id := storetest.Typed(b, s, n)
				if err := s.snapshot(context.Background(), id); err != nil {
					b.Fatal(err)
				}
				used := noteMemory(b, s, id)
				b.ReportMetric(float64(used-empty)*1000/float64(n), "B/1000-edits")
				b.ReportMetric(float64(used), "note-bytes")
			}
		})
	}
}

// noteMemory sums MEMORY USAGE over every key of the note.
func noteMemory(b *testing.B, s *Store, id scribe.NoteID) int64 {
	ctx := context.Background()
	var total int64
	iter := s.client.Scan(ctx, 0, s.noteKey(id, "*"), 1000).Iterator()
	for iter.Next(ctx) {
		n, err := s.client.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return total
}

// BenchmarkHistoryCostCompacted is BenchmarkHistoryCost after compaction:
// n keystrokes typed at one a second (a minute of typing per batch, the
// store stamping changes with the test's clock), the snapshot worker
// caught up, then compacted with CompactStep (budget 1,000) until it
// folds nothing more (every minute becomes one fold). It reports, per
// 1,000 edits, MEMORY USAGE summed over the note's keys less the same
// note with no edits, after ("B/1000-edits") and before compaction
// ("before-B/1000-edits"), both measured in one run; and the note's
// bytes before and after, and the time per step.
//
//	go test -run XXX -bench HistoryCostCompacted -benchtime 1x ./store/redis/
func BenchmarkHistoryCostCompacted(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 20_000, 100_000} {
		b.Run(fmt.Sprintf("edits=%d", n), func(b *testing.B) {
			for b.Loop() {
				clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
				s := openStore(b, backends[0], Options{clock: clock.Now})
				empty := noteMemory(b, s, storetest.TypedMinutes(b, s, 0, clock))
				id := storetest.TypedMinutes(b, s, n, clock)
				if err := s.snapshot(ctx, id); err != nil {
					b.Fatal(err)
				}
				before := noteMemory(b, s, id)
				now := clock.Now().Add(scribe.DefaultHistoryHotAge + time.Minute)
				var total scribe.CompactStats
				steps := 0
				start := time.Now()
				for ; ; steps++ {
					st, err := s.CompactStep(ctx, now, scribe.DefaultHistoryHotAge, 1000)
					if err != nil {
						b.Fatal(err)
					}
					if st.Changes == 0 && st.Behind == 0 {
						break
					}
					total.Add(st)
				}
				took := time.Since(start)
				after := noteMemory(b, s, id)
				b.ReportMetric(float64(after-empty)*1000/float64(n), "B/1000-edits")
				b.ReportMetric(float64(before-empty)*1000/float64(n), "before-B/1000-edits")
				b.ReportMetric(float64(before), "before-note-bytes")
				b.ReportMetric(float64(after), "note-bytes")
				b.ReportMetric(float64(total.Changes), "folded")
				b.ReportMetric(float64(total.Folds), "folds")
				b.ReportMetric(float64(took.Microseconds())/float64(max(steps, 1)), "µs/step-of-1000")
			}
		})
	}
}

// BenchmarkAppendTypists commits what a note of 100 typists commits (issue
// 16, target 2): Appends of 10 changes, each from one of 100 sessions and
// authors in turn, one character each; no snapshots. Counted, as in
// docs/benchmarks.md (branch fanout), on a private redis-server:
//
//	valgrind --tool=callgrind --toggle-collect=evalShaCommand redis-server --port P --save '' --appendonly no &
//	SCRIBE_TEST_REDIS_URL=redis://127.0.0.1:P/0 go test -run XXX -bench AppendTypists -benchtime 300x ./store/redis/
func BenchmarkAppendTypists(b *testing.B) {
	const typists, batch = 100, 10
	s := openStore(b, backends[0], Options{SnapshotEvery: 1 << 30})
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "typists"})
	if err != nil {
		b.Fatal(err)
	}
	rev := scribe.Revision(0)
	seqs := make([]uint64, typists)
	k := 0
	for b.Loop() {
		cs := make([]scribe.Change, batch)
		for i := range cs {
			seqs[k]++
			op := `["x"]`
			if l := int(rev) + i; l > 0 {
				op = fmt.Sprintf(`[%d,"x"]`, l)
			}
			cs[i] = scribe.Change{Op: []byte(op), Session: fmt.Sprintf("session%03d", k), Seq: seqs[k], Author: fmt.Sprintf("Typist %d", k)}
			k = (k + 1) % typists
		}
		revs, err := s.Append(ctx, n.ID, rev, cs)
		if err != nil {
			b.Fatal(err)
		}
		rev = revs[len(revs)-1]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/change")
}
