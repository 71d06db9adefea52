package redis

import (
	"context"
	"fmt"
	"testing"

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
