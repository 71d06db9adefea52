package bolt_test

import (
	"context"
	"testing"

	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

func TestFeed(t *testing.T) {
	storetest.RunFeed(t, func(tb testing.TB, feedLength int) storetest.FeedStore {
		s := bolt.New(tb.TempDir(), bolt.Options{FeedLength: feedLength})
		if err := s.Open(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}
