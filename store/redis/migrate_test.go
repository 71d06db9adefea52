package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// TestSubscriptionFollowsSlotMigration moves a note's slot to another
// master of the cluster while a subscription is open. Redis ends sharded
// subscriptions on a slot its node loses; the store subscribes again on the
// new owner, so commits after the move are heard again. Appends and loads
// keep working through the move (go-redis follows MOVED).
func TestSubscriptionFollowsSlotMigration(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, backends[1], Options{})
	n := mustCreate(t, s, "")
	sub, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	appendText(t, s, n.ID, 0, 0, "before", 1)
	if ev := <-sub.Events(); ev.Change == nil || ev.Change.Revision != 1 {
		t.Fatalf("first event %+v", ev)
	}

	moveSlot(t, s.noteKey(n.ID, "meta"))

	// Appends right after the move may be published before the store has
	// subscribed again (those events are lost, as the contract allows), so
	// keep appending until one is heard: without resubscribing none ever is.
	rev := scribe.Revision(1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no event after the slot moved (appended up to revision %d)", rev)
		}
		items := []any{int(rev), "x"}
		if _, err := s.Append(ctx, n.ID, rev, []scribe.Change{{Op: op(t, items...), Session: "after", Seq: uint64(rev)}}); err != nil {
			t.Fatalf("append after the move: %v", err)
		}
		rev++
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatal("subscription ended when the slot moved")
			}
			if ev.Change == nil || ev.Change.Revision < 2 {
				t.Fatalf("event %+v", ev)
			}
			doc, err := s.LoadNote(ctx, n.ID)
			if err != nil || doc.Revision != rev {
				t.Fatalf("load after the move: %v at %d, want %d", err, doc.Revision, rev)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// moveSlot migrates the slot of key, with its keys, from its master to
// another master of the test cluster, as redis-cli --cluster reshard does.
func moveSlot(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	cc := cluster.Client()
	defer cc.Close()
	slot, err := cc.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	nodes := make(map[string]*goredis.Client) // addr -> client
	ids := make(map[string]string)            // addr -> node id
	for _, addr := range cluster.Addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		defer c.Close()
		id, err := c.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatal(err)
		}
		nodes[addr], ids[addr] = c, id
	}
	owner, err := cc.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	from := owner.Options().Addr
	to := ""
	for _, addr := range cluster.Addrs {
		if addr != from {
			to = addr
			break
		}
	}
	src, dst := nodes[from], nodes[to]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[from]).Err())
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[to]).Err())
	host, port, _ := strings.Cut(to, ":")
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, int(slot), 100).Result()
		must(err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(src.Do(ctx, args...).Err())
	}
	for _, addr := range []string{to, from} {
		must(nodes[addr].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err())
	}
	for _, addr := range cluster.Addrs {
		if addr != to && addr != from {
			must(nodes[addr].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err())
		}
	}
	t.Logf("moved slot %d from %s to %s", slot, from, to)
}
