// Package redistest gives tests outside store/redis a Redis store on the
// local test Redis (127.0.0.1:6379, started by scripts/ensure-redis.sh)
// under a key prefix of their own, removed when the test ends: the room's
// and the server's multi-node tests and the load tool's open it the same
// way.
package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe/store/redis"
)

// Addr is the test Redis.
const Addr = "127.0.0.1:6379"

// Prefix returns a random key prefix for one test, scribe-<name>-<n>:, and
// removes the test's keys under it when the test ends.
func Prefix(tb testing.TB, name string) string {
	tb.Helper()
	prefix := fmt.Sprintf("scribe-%s-%d:", name, rand.Int64())
	tb.Cleanup(func() { DropPrefix(tb, prefix) })
	return prefix
}

// DropPrefix deletes every key under prefix.
func DropPrefix(tb testing.TB, prefix string) {
	c := goredis.NewClient(&goredis.Options{Addr: Addr})
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for len(keys) > 0 {
		k := min(len(keys), 500)
		if err := c.Del(ctx, keys[:k]...).Err(); err != nil {
			tb.Logf("drop test keys under %s: %v", prefix, err)
			return
		}
		keys = keys[k:]
	}
}

// Timeout bounds the Redis commands of a store Open returns: every call's
// (redis.Options.CallTimeout) and each socket read and write (the URL's
// read_timeout and write_timeout). It is a failure bound: the production
// bounds (redis.CallTimeout, 1.5 s; redis.ReadTimeout, 1 s) are for a
// healthy Redis and an uninstrumented binary, and the tests' Redis is
// shared by every suite on a loaded 2-core machine, where a race-built
// node passed them often enough to fail the multi-node tests with
// EUNAVAILABLE ("room failed", refused joins and ops). The tests of a
// hung or dead Redis run their own server (StartPrivate) with the
// production bounds.
const Timeout = 30 * time.Second

// Open opens a Redis store on prefix, closed when the test ends (each node
// of a multi-node test opens its own on the same prefix). Closing it
// earlier is fine.
func Open(tb testing.TB, prefix string) *redis.Store {
	tb.Helper()
	url := fmt.Sprintf("redis://%s/0?read_timeout=%s&write_timeout=%s", Addr, Timeout, Timeout)
	s, err := redis.New(url, redis.Options{Prefix: prefix, CallTimeout: Timeout})
	if err != nil {
		tb.Fatalf("redis store: %v", err)
	}
	if err := s.Open(context.Background()); err != nil {
		tb.Fatalf("open redis store at %s (run scripts/ensure-redis.sh): %v", Addr, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
