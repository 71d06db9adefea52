package redis

import (
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// TestConformance runs the conformance suite every Store passes against a
// standalone Redis and a three-master Redis Cluster, each store under a
// fresh key prefix.
func TestConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.Run(t, func(tb testing.TB) scribe.Store {
			return openStore(tb, b, Options{})
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
