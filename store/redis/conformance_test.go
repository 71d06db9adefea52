package redis

import (
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestConformance runs the conformance suite every Store passes against a
// standalone Redis and a three-master Redis Cluster, each store under a
// fresh key prefix. The suite appends long histories in batches of
// hundreds of changes: its stores have openBulkStore's bounds.
func TestConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.Run(t, func(tb testing.TB) scribe.Store {
			return openBulkStore(tb, b, Options{})
		})
	})
}

// TestConformanceTinyCache runs the suite with a text cache too small to
// keep any note, so every append reads the text it checks ops against from
// Redis: the cache is an optimisation, never needed for correctness.
func TestConformanceTinyCache(t *testing.T) {
	b := backends[0]
	storetest.Run(t, func(tb testing.TB) scribe.Store {
		return openBulkStore(tb, b, Options{CacheBytes: 1})
	})
}

// TestConformanceNodes runs the suite's guarantees that span several server
// nodes: three Stores, each with its own client, sharing one fresh prefix.
func TestConformanceNodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunNodes(t, func(tb testing.TB, n int) []scribe.Store {
			prefix := randomPrefix()
			tb.Cleanup(func() { deletePrefix(tb, b.url(), prefix) })
			nodes := make([]scribe.Store, n)
			for i := range nodes {
				nodes[i] = openStoreAt(tb, bulkURL(b.url()), Options{Prefix: prefix, CallTimeout: bulkCallTimeout})
			}
			return nodes
		})
	})
}

// BenchmarkStore runs the benchmarks every Store reports (figures in
// docs/benchmarks.md) against both deployments.
func BenchmarkStore(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			storetest.Benchmark(b, func(tb testing.TB) scribe.Store {
				return openStore(tb, be, Options{})
			})
		})
	}
}

// TestCompaction runs the compaction suite (scribe.Compactor) against both
// deployments, each store stamping changes with the suite's clock.
func TestCompaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunCompaction(t, func(tb testing.TB, clock func() time.Time) scribe.Store {
			return openStore(tb, b, Options{clock: clock})
		})
	})
}

// BenchmarkQueryNotes10k measures the note list over 10,000 notes on both
// deployments (docs/benchmarks.md).
func BenchmarkQueryNotes10k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			storetest.BenchmarkQueryNotes(b, func(tb testing.TB) scribe.Store {
				return openStore(tb, be, Options{})
			})
		})
	}
}
