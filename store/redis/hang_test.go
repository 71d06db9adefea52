package redis

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// startPrivateRedis starts a redis-server of the test's own on a free port
// and returns its URL and process; it is killed when the test ends.
func startPrivateRedis(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
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
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "redis://127.0.0.1:" + port + "/0", cmd
}

// TestHungRedisFailsFast stops Redis with SIGSTOP (it keeps its sockets
// open and answers nothing, as a hung or swapped-out server does): every
// store call fails with EUNAVAILABLE within CallTimeout and a margin, not
// after go-redis's defaults (10 s or more), even with a context that has no
// deadline. After SIGCONT the same Store works again.
func TestHungRedisFailsFast(t *testing.T) {
	url, srv := startPrivateRedis(t)
	s := openStoreAt(t, url, Options{Prefix: randomPrefix()})
	n := mustCreate(t, s, "hello")
	ctx := context.Background()

	if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	limit := CallTimeout + time.Second
	for name, call := range map[string]func() error{
		"Ping":     func() error { return s.Ping(ctx) },
		"LoadNote": func() error { _, err := s.LoadNote(ctx, n.ID); return err },
		"GetNote":  func() error { _, err := s.GetNote(ctx, n.ID); return err },
		"Append": func() error {
			_, err := s.Append(ctx, n.ID, 0, []scribe.Change{{Op: op(t, 5, "!"), Session: "s1", Seq: 1, Author: "a"}})
			return err
		},
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if code := scribe.ErrorCode(err); code != scribe.EUNAVAILABLE {
			t.Errorf("%s on a stopped Redis: %v (code %s), want EUNAVAILABLE", name, err, code)
		}
		if took > limit {
			t.Errorf("%s on a stopped Redis took %v, want at most %v", name, took, limit)
		}
	}

	if err := srv.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not recover after SIGCONT")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d, err := s.LoadNote(ctx, n.ID); err != nil || d.Text != "hello" {
		t.Fatalf("LoadNote after SIGCONT = %q, %v", d.Text, err)
	}
}
