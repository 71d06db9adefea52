package redis

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// TestSubscriptionSurvivesRedisRestart restarts a private Redis (with an
// append-only file, so the note survives) under an open subscription. The
// subscription reconnects by itself: commits after the restart are heard
// again, and Append and LoadNote work on without the Store being reopened.
func TestSubscriptionSurvivesRedisRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", dir,
			"--appendonly", "yes", "--appendfsync", "always", "--save", "")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
		defer c.Close()
		for i := 0; c.Ping(ctx).Err() != nil; i++ {
			if i > 200 {
				t.Fatal("redis-server did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		return cmd
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Kill() // a crash, not a clean shutdown: the AOF has every write
		_ = cmd.Wait()
	}
	srv := start()
	defer func() { stop(srv) }()

	s := openStoreAt(t, "redis://127.0.0.1:"+port+"/0", Options{Prefix: randomPrefix()})
	n := mustCreate(t, s, "")
	sub, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	appendText(t, s, n.ID, 0, 0, "w", 1)
	if ev := <-sub.Events(); ev.Change == nil || ev.Change.Revision != 1 {
		t.Fatalf("event before the restart: %+v", ev)
	}

	stop(srv)
	srv = start()

	// Appends right after the restart may go out before the subscription
	// has reconnected (lost, as the contract allows): append until one is
	// heard.
	rev := scribe.Revision(1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no event after the restart (appended up to revision %d)", rev)
		}
		_, err := s.Append(ctx, n.ID, rev, []scribe.Change{{Op: op(t, int(rev), "x"), Session: "w", Seq: uint64(rev + 1)}})
		if err != nil {
			// The pool's first use of a dead connection may fail once.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		rev++
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatal("subscription ended with the restart")
			}
			if ev.Change == nil || ev.Change.Revision < 2 {
				t.Fatalf("event after the restart: %+v", ev)
			}
			doc, err := s.LoadNote(ctx, n.ID)
			if err != nil || doc.Revision != rev || len(doc.Text) != int(rev) {
				t.Fatalf("load after the restart: %q at %d, %v", doc.Text, doc.Revision, err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
