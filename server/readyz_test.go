package server_test

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis"
)

// TestReadyzWithHungRedis: with its Redis stopped by SIGSTOP, /readyz says
// 503 within its 2 s timeout (before, it took 5 s: go-redis ignored the
// context's deadline on the socket), and 200 again after SIGCONT.
func TestReadyzWithHungRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Close()
	store, err := redis.New("redis://127.0.0.1:"+port+"/0", redis.Options{Prefix: "readyz-test:"})
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
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	code, took := readyz()
	if code != http.StatusServiceUnavailable || took > 2500*time.Millisecond {
		t.Errorf("readyz with Redis stopped = %d after %v, want 503 within its 2 s timeout", code, took)
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
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
