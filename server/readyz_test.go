package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestReadyzWithHungRedis: with its Redis stopped by SIGSTOP, /readyz says
// 503 within its 2 s timeout (before, it took 5 s: go-redis ignored the
// context's deadline on the socket), and 200 again after SIGCONT.
func TestReadyzWithHungRedis(t *testing.T) {
	rs := redistest.StartPrivate(t)
	store, err := redis.New(rs.URL(), redis.Options{Prefix: "readyz-test:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, store, server.Limits{})
	readyz := func() (int, time.Duration) {
		start := time.Now()
		resp, err := http.Get(n.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	if code, _ := readyz(); code != http.StatusOK {
		t.Fatalf("readyz = %d before SIGSTOP", code)
	}
	rs.Stop()
	code, took := readyz()
	if code != http.StatusServiceUnavailable || took > 2500*time.Millisecond {
		t.Errorf("readyz with Redis stopped = %d after %v, want 503 within its 2 s timeout", code, took)
	}
	rs.Continue()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := readyz(); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after SIGCONT")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
