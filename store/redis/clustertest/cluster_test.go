package clustertest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// TestCluster checks that a started cluster has three masters that share
// the keyspace (keys spread over all of them) and that Stop ends it.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	c, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if len(c.Addrs) != Masters {
		t.Fatalf("got %d addresses, want %d", len(c.Addrs), Masters)
	}
	cl := c.Client()
	defer cl.Close()
	for i := 0; i < 300; i++ {
		if err := cl.Set(ctx, fmt.Sprintf("clustertest:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var masters, withKeys atomic.Int32
	err = cl.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		masters.Add(1)
		n, err := m.DBSize(ctx).Result()
		if n > 0 {
			withKeys.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if masters.Load() != Masters || withKeys.Load() != Masters {
		t.Fatalf("%d masters, %d holding keys; want %d and %d", masters.Load(), withKeys.Load(), Masters, Masters)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	one := goredis.NewClient(&goredis.Options{Addr: c.Addrs[0], MaxRetries: -1})
	defer one.Close()
	if err := one.Ping(ctx).Err(); err == nil {
		t.Fatal("a node still answers after Stop")
	}
}

// TestMissingRedisFails checks that without redis-server on PATH, Start
// fails with an error that says how to install it (tests fail, never skip).
func TestMissingRedisFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), "")
	if err == nil {
		t.Fatal("Start succeeded without redis-server on PATH")
	}
	if !strings.Contains(err.Error(), "redis-server not found") || !strings.Contains(err.Error(), "ensure-redis.sh") {
		t.Fatalf("error %q does not say what is missing and how to install it", err)
	}
}
