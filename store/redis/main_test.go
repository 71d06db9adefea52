package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe/store/redis/clustertest"
)

// The tests run against two real backends: the Redis server at
// standaloneURL (make test starts one with scripts/ensure-redis.sh) and a
// three-master Redis Cluster that TestMain starts on free loopback ports.
// Either missing is a failure, never a skip.

// standaloneURL is the shared Redis the tests use; SCRIBE_TEST_REDIS_URL
// overrides it. Tests only touch keys under a fresh random prefix and
// delete them afterwards: never FLUSHDB.
var standaloneURL = "redis://127.0.0.1:6379/0"

var cluster *clustertest.Cluster

func TestMain(m *testing.M) {
	if u := os.Getenv("SCRIBE_TEST_REDIS_URL"); u != "" {
		standaloneURL = u
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := clustertest.Start(ctx, "")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "store/redis tests: start redis cluster:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "store/redis tests: stop redis cluster:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// backend is one Redis deployment the tests run against.
type backend struct {
	name string
	url  func() string
}

var backends = []backend{
	{"standalone", func() string { return standaloneURL }},
	{"cluster", func() string { return cluster.URL() }},
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// randomPrefix returns a key prefix no other test run uses.
func randomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "scribetest:" + hex.EncodeToString(b[:]) + ":"
}

// openStore opens a Store on b under a fresh prefix, closed and cleaned up
// when the test ends.
func openStore(t testing.TB, b backend, opts Options) *Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = randomPrefix()
	}
	s := openStoreAt(t, b.url(), opts)
	t.Cleanup(func() { deletePrefix(t, b.url(), opts.Prefix) })
	return s
}

// openStoreAt opens a Store on url with opts as given (a second "node"
// shares a prefix with the first).
func openStoreAt(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := New(url, opts)
	if err != nil {
		t.Fatalf("new store %s: %v", url, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("open store %s: %v (is Redis running? scripts/ensure-redis.sh starts it)", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// deletePrefix deletes every key under prefix, on every master.
func deletePrefix(t testing.TB, url, prefix string) {
	t.Helper()
	client, err := NewClient(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	del := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var batch []string
		flush := func() error {
			_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for _, k := range batch {
					p.Unlink(ctx, k) // one key per command: keys of many slots
				}
				return nil
			})
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 500 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		if len(batch) > 0 {
			return flush()
		}
		return nil
	}
	switch c := client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *goredis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Errorf("cleanup prefix %s: %v", prefix, err)
	}
}
