package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// Benchmark measures a Store with the sub-benchmarks every backend reports in
// docs/benchmarks.md. Each reports committed ops/s ("ops/s"); the serial
// single-op append also reports its latency percentiles ("p50-µs", "p99-µs").
//
//   - Append/one-note/batch=N: one writer appends N ops per call to one note.
//     batch=1 is the latency of one append on an idle store.
//   - Append/one-note/clients=64: 64 clients submit one op at a time to one
//     note through a committer that drains everything queued into one Append
//     (group commit), as a server session does. Reports "ops/append".
//   - Append/1000-notes/parallel: many goroutines append single ops to 1,000
//     notes at once, no two to the same note at the same time.
//   - LoadNote/history=10000: load a note with 10,000 committed ops.
func Benchmark(b *testing.B, newStore NewStore) {
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("Append/one-note/batch=%d", batch), func(b *testing.B) {
			benchSerial(b, newStore(b), batch)
		})
	}
	b.Run("Append/one-note/clients=64", func(b *testing.B) {
		benchGroupCommit(b, newStore(b), 64)
	})
	b.Run("Append/1000-notes/parallel", func(b *testing.B) {
		benchSpread(b, newStore(b), 1000)
	})
	b.Run("LoadNote/history=10000", func(b *testing.B) {
		benchLoad(b, newStore(b), 10_000)
	})
	b.Run("TextAt/history=100000", func(b *testing.B) {
		benchTextAt(b, newStore(b), []int{0, 1000, 10_000, 100_000 - 1})
	})
}

// benchDoc tracks a note's length so that ops stay valid without applying
// them: it inserts until the text is 100 units long, then deletes.
type benchDoc struct {
	id  scribe.NoteID
	rev scribe.Revision
	n   int
	seq uint64
}

func (d *benchDoc) nextOp() json.RawMessage {
	d.seq++
	var op string
	switch {
	case d.n == 0:
		op = `["x"]`
		d.n++
	case d.n < 100 && d.seq%4 != 0:
		op = fmt.Sprintf(`[%d,"x"]`, d.n)
		d.n++
	case d.n == 1:
		op = `[-1]`
		d.n--
	default:
		op = fmt.Sprintf(`[%d,-1]`, d.n-1)
		d.n--
	}
	return json.RawMessage(op)
}

func benchCreate(b *testing.B, s scribe.Store) *benchDoc {
	n, err := s.CreateNote(context.Background(), scribe.NewNote{Title: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return &benchDoc{id: n.ID}
}

func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func benchSerial(b *testing.B, s scribe.Store, batch int) {
	ctx := context.Background()
	d := benchCreate(b, s)
	var lat []time.Duration
	if batch == 1 {
		lat = make([]time.Duration, 0, b.N)
	}
	b.ResetTimer()
	ops := 0
	for ops < b.N {
		cs := make([]scribe.Change, batch)
		for i := range cs {
			cs[i] = scribe.Change{Op: d.nextOp(), Session: "bench", Seq: d.seq, Author: "bench"}
		}
		start := time.Now()
		if _, err := s.Append(ctx, d.id, d.rev, cs); err != nil {
			b.Fatal(err)
		}
		if lat != nil {
			lat = append(lat, time.Since(start))
		}
		d.rev += scribe.Revision(batch)
		ops += batch
	}
	b.StopTimer()
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
	reportLatency(b, lat)
}

// submission is one client's op waiting for the committer, which builds
// the op itself; done receives the Append's result.
type submission struct {
	done chan error
}

// benchGroupCommit has clients goroutines each submit one op and wait for its
// commit; one committer drains the queue into one Append per round. The
// committer builds the ops itself (a real session transforms them instead).
func benchGroupCommit(b *testing.B, s scribe.Store, clients int) {
	ctx := context.Background()
	d := benchCreate(b, s)
	queue := make(chan *submission, clients)
	var appends atomic.Int64
	var committed atomic.Int64
	stop := make(chan struct{})
	var cwg sync.WaitGroup
	cwg.Add(1)
	go func() {
		defer cwg.Done()
		for {
			var subs []*submission
			select {
			case sub := <-queue:
				subs = append(subs, sub)
			case <-stop:
				return
			}
		drain:
			for {
				select {
				case sub := <-queue:
					subs = append(subs, sub)
				default:
					break drain
				}
			}
			cs := make([]scribe.Change, len(subs))
			for i := range subs {
				cs[i] = scribe.Change{Op: d.nextOp(), Session: "group", Seq: d.seq, Author: "bench"}
			}
			_, err := s.Append(ctx, d.id, d.rev, cs)
			if err == nil {
				d.rev += scribe.Revision(len(cs))
				appends.Add(1)
				committed.Add(int64(len(cs)))
			}
			for _, sub := range subs {
				sub.done <- err
			}
		}
	}()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			done := make(chan error, 1)
			for next.Add(1) <= int64(b.N) {
				queue <- &submission{done: done}
				if err := <-done; err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	cwg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(committed.Load())/b.Elapsed().Seconds(), "ops/s")
	if a := appends.Load(); a > 0 {
		b.ReportMetric(float64(committed.Load())/float64(a), "ops/append")
	}
}

func benchSpread(b *testing.B, s scribe.Store, notes int) {
	ctx := context.Background()
	docs := make([]*benchDoc, notes)
	locks := make([]sync.Mutex, notes)
	for i := range docs {
		docs[i] = benchCreate(b, s)
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			i := rng.IntN(notes)
			locks[i].Lock()
			d := docs[i]
			c := scribe.Change{Op: d.nextOp(), Session: "spread", Seq: d.seq, Author: "bench"}
			_, err := s.Append(ctx, d.id, d.rev, []scribe.Change{c})
			if err == nil {
				d.rev++
			}
			locks[i].Unlock()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func benchLoad(b *testing.B, s scribe.Store, history int) {
	ctx := context.Background()
	d := benchCreate(b, s)
	for d.rev < scribe.Revision(history) {
		cs := make([]scribe.Change, min(1000, history-int(d.rev)))
		for i := range cs {
			cs[i] = scribe.Change{Op: d.nextOp(), Session: "load", Seq: d.seq, Author: "bench"}
		}
		if _, err := s.Append(ctx, d.id, d.rev, cs); err != nil {
			b.Fatal(err)
		}
		d.rev += scribe.Revision(len(cs))
	}
	b.ResetTimer()
	for range b.N {
		doc, err := s.LoadNote(ctx, d.id)
		if err != nil {
			b.Fatal(err)
		}
		if doc.Revision != d.rev {
			b.Fatalf("loaded revision %d, want %d", doc.Revision, d.rev)
		}
	}
}
