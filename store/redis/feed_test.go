package redis

import (
	"testing"

	"github.com/scribe-notes/scribe/store/storetest"
)

// TestFeed runs the change feed's conformance suite on a standalone Redis
// and on the Cluster.
func TestFeed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunFeed(t, func(tb testing.TB, feedLength int) storetest.FeedStore {
			return openStore(tb, b, Options{FeedLength: feedLength})
		})
	})
}
