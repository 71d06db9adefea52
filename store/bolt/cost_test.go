package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// BenchmarkHistoryCost measures what a note's history costs on disk:
// after typing n keystrokes into a note (storetest.Typed), the pages bbolt
// uses (tx.Size: the file up to its highest page in use, "used-bytes"),
// less those of a store holding the same note with none, per 1,000 edits
// ("B/1000-edits"), the free pages among them that bbolt reuses for the
// next writes ("free-bytes"), and the file's size ("file-bytes": bbolt grows it
// ahead of use, up to 16 MB at a time). The figures are in
// docs/operations.md ("History: what a note's past costs").
//
//	go test -run XXX -bench HistoryCost -benchtime 1x ./store/bolt/
func BenchmarkHistoryCost(b *testing.B) {
	used := func(s *Store) int64 {
		var n int64
		if err := s.db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("edits=%d", n), func(b *testing.B) {
			for b.Loop() {
				base := New(b.TempDir(), Options{})
				if err := base.Open(context.Background()); err != nil {
					b.Fatal(err)
				}
				storetest.Typed(b, base, 0)
				empty := used(base)
				base.Close()

				dir := b.TempDir()
				s := New(dir, Options{})
				if err := s.Open(context.Background()); err != nil {
					b.Fatal(err)
				}
				storetest.Typed(b, s, n)
				inUse, free := used(s), int64(s.db.Stats().FreeAlloc)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				fi, err := os.Stat(filepath.Join(dir, FileName))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(inUse-empty)*1000/float64(n), "B/1000-edits")
				b.ReportMetric(float64(inUse), "used-bytes")
				b.ReportMetric(float64(free), "free-bytes")
				b.ReportMetric(float64(fi.Size()), "file-bytes")
			}
		})
	}
}

// BenchmarkHistoryCostCompacted is BenchmarkHistoryCost after compaction:
// n keystrokes typed at one a second (storetest.TypedMinutes), then
// compacted (every minute folds into one change), and the pages still
// holding data ("live-bytes": in use less the free pages bbolt reuses for
// the next writes) less those of the note with no edits, per 1,000 edits.
// "before-live-bytes" is the same note before compaction, measured the
// same way, so the two compare in one run.
//
//	go test -run XXX -bench HistoryCostCompacted -benchtime 1x ./store/bolt/
func BenchmarkHistoryCostCompacted(b *testing.B) {
	ctx := context.Background()
	live := func(s *Store) int64 {
		var n int64
		if err := s.db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			b.Fatal(err)
		}
		return n - int64(s.db.Stats().FreeAlloc)
	}
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("edits=%d", n), func(b *testing.B) {
			for b.Loop() {
				clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
				base := New(b.TempDir(), Options{Now: clock.Now})
				if err := base.Open(ctx); err != nil {
					b.Fatal(err)
				}
				storetest.TypedMinutes(b, base, 0, clock)
				empty := live(base)
				base.Close()

				s := New(b.TempDir(), Options{Now: clock.Now})
				if err := s.Open(ctx); err != nil {
					b.Fatal(err)
				}
				storetest.TypedMinutes(b, s, n, clock)
				before := live(s)
				now := clock.Now().Add(scribe.DefaultHistoryHotAge + time.Minute)
				var total scribe.CompactStats
				start := time.Now()
				steps := 0
				for ; ; steps++ {
					st, err := s.CompactStep(ctx, now, scribe.DefaultHistoryHotAge, 1000)
					if err != nil {
						b.Fatal(err)
					}
					if st.Changes == 0 {
						break
					}
					total.Add(st)
				}
				took := time.Since(start)
				after := live(s)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(after-empty)*1000/float64(n), "B/1000-edits")
				b.ReportMetric(float64(before-empty)*1000/float64(n), "before-B/1000-edits")
				b.ReportMetric(float64(total.Changes), "folded")
				b.ReportMetric(float64(total.Folds), "folds")
				b.ReportMetric(float64(total.Bytes), "history-bytes-freed")
				b.ReportMetric(float64(took.Microseconds())/float64(max(steps, 1)), "µs/step-of-1000")
			}
		})
	}
}
