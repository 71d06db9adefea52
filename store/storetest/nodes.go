package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// NewNodes returns n open stores that share one fresh, empty namespace, as n
// server nodes sharing one backend do (for Redis: n Stores with their own
// clients and the same new key prefix). It registers their Close with
// tb.Cleanup. A single-process store may return the same store n times.
type NewNodes func(tb testing.TB, n int) []scribe.Store

// RunNodes runs the guarantees that involve several nodes: a change or a
// message on one node reaches subscribers on the others; a token revoked on
// one node stops resolving on every node at once; writers on different
// nodes agree on one gap-free, duplicate-free log; a resend through another
// node is recognised. Each subtest gets its own nodes from newNodes.
func RunNodes(t *testing.T, newNodes NewNodes) {
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes []scribe.Store)
	}{
		{"SubscribeAcrossNodes", testNodesSubscribe},
		{"RevokeAcrossNodes", testNodesRevoke},
		{"ConcurrentAppendAcrossNodes", testNodesConcurrent},
		{"DedupAcrossNodes", testNodesDedup},
		{"FollowersOnEveryNode", testNodesFollowers},
		{"APITokensAcrossNodes", testNodesAPITokens},
		{"FeedAcrossNodes", testNodesFeed},
		{"HistoryAcrossNodes", testNodesHistory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := newNodes(t, 3)
			if len(nodes) != 3 {
				t.Fatalf("newNodes returned %d stores, want 3", len(nodes))
			}
			tt.fn(t, nodes)
		})
	}
}

func testNodesSubscribe(t *testing.T, nodes []scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, nodes[0], "")
	for i, node := range nodes {
		if _, err := node.GetNote(ctx, n.ID); err != nil {
			t.Fatalf("node %d does not see the note: %v", i, err)
		}
	}
	var subs []scribe.Subscription
	for _, node := range nodes[1:] {
		sub, err := node.Subscribe(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		subs = append(subs, sub)
	}
	op := EditOp("", 0, 0, "hi")
	mustAppend(t, nodes[0], n.ID, 0, ChangeOf("s", 1, op))
	if err := nodes[0].Publish(ctx, n.ID, []byte("cursor")); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		gotChange, gotMsg := false, false
		for !gotChange || !gotMsg {
			ev := nextEvent(t, sub.Events())
			switch {
			case ev.Change != nil:
				if ev.Change.Revision != 1 || !jsonEqual(ev.Change.Op, op) || ev.Change.Session != "s" {
					t.Fatalf("node %d heard change %+v", i+1, ev.Change)
				}
				gotChange = true
			case string(ev.Message) == "cursor":
				gotMsg = true
			default:
				t.Fatalf("node %d heard %+v", i+1, ev)
			}
		}
	}
	if d := mustLoad(t, nodes[2], n.ID); d.Text != "hi" || d.Revision != 1 {
		t.Errorf("node 2 loads %q at %d", d.Text, d.Revision)
	}
}

func testNodesRevoke(t *testing.T, nodes []scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, nodes[0], "")
	sh, err := nodes[0].CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, node := range nodes {
		if got, err := node.ResolveShare(ctx, sh.Token); err != nil || got.NoteID != n.ID {
			t.Fatalf("node %d resolves the new token to %+v, %v", i, got, err)
		}
	}
	if err := nodes[1].RevokeShare(ctx, sh.Token); err != nil {
		t.Fatal(err)
	}
	for i, node := range nodes {
		_, err := node.ResolveShare(ctx, sh.Token)
		wantCode(t, err, scribe.ENOTFOUND, fmt.Sprintf("node %d resolving a token revoked on node 1", i))
		if list, err := node.ListShares(ctx, n.ID); err != nil || len(list) != 0 {
			t.Errorf("node %d lists %+v, %v after the revoke", i, list, err)
		}
	}
}

func testNodesConcurrent(t *testing.T, nodes []scribe.Store) {
	base := "Shared across nodes."
	n := mustCreate(t, nodes[0], base)
	runWriters(t, nodes, n.ID, base, 9, 20)
}

// testNodesDedup resends one submission through every node at once, as a
// client that reconnects to another node while its first node's append is
// in flight does: it is written once.
func testNodesDedup(t *testing.T, nodes []scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, nodes[0], "x")
	c := ChangeOf("tab", 3, EditOp("x", 1, 0, "y"))
	var wg sync.WaitGroup
	revs := make([]scribe.Revision, len(nodes)*3)
	errs := make([]error, len(revs))
	for g := range revs {
		wg.Go(func() {
			node := nodes[g%len(nodes)]
			expected := scribe.Revision(0)
			for range 100 {
				r, err := node.Append(ctx, n.ID, expected, []scribe.Change{c})
				if scribe.ErrorCode(err) == scribe.ECONFLICT {
					note, gerr := node.GetNote(ctx, n.ID)
					if gerr != nil {
						errs[g] = gerr
						return
					}
					expected = note.Revision
					continue
				}
				if err == nil {
					revs[g] = r[0]
				}
				errs[g] = err
				return
			}
			errs[g] = fmt.Errorf("no success after 100 conflicts")
		})
	}
	wg.Wait()
	for g := range revs {
		if errs[g] != nil || revs[g] != 1 {
			t.Errorf("resend %d via node %d: revision %d, %v; want 1", g, g%len(nodes), revs[g], errs[g])
		}
	}
	if d := checkLog(t, nodes[1], n.ID, "x"); d.Revision != 1 || d.Text != "xy" {
		t.Errorf("after resends on every node: %q at %d", d.Text, d.Revision)
	}
	for i, node := range nodes {
		if seq, rev, err := node.LastSeq(ctx, n.ID, "tab"); seq != 3 || rev != 1 || err != nil {
			t.Errorf("node %d: LastSeq = %d, %d, %v", i, seq, rev, err)
		}
	}
}

// testNodesFollowers has a lossy Follower on every node while writers on
// every node commit: each Follower yields every revision exactly once.
func testNodesFollowers(t *testing.T, nodes []scribe.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := "followed"
	n := mustCreate(t, nodes[0], base)
	const writers, perWriter = 6, 15
	total := writers * perWriter
	type result struct {
		node int
		revs []scribe.Revision
		err  error
	}
	results := make(chan result, len(nodes))
	var fwg sync.WaitGroup
	for i, node := range nodes {
		raw, err := node.Subscribe(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		sub := Lossy(raw, 3, 5)
		defer sub.Close()
		f := NewFollower(node, n.ID, sub, 0)
		fwg.Go(func() {
			var revs []scribe.Revision
			for len(revs) < total {
				ev, err := f.Next(ctx)
				if err != nil {
					results <- result{i, revs, err}
					return
				}
				if ev.Change != nil {
					revs = append(revs, ev.Change.Revision)
				}
			}
			results <- result{i, revs, nil}
		})
	}
	runWriters(t, nodes, n.ID, base, writers, perWriter)
	fwg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("node %d: follower stopped after %d revisions: %v", r.node, len(r.revs), r.err)
			continue
		}
		for i, rev := range r.revs {
			if rev != scribe.Revision(i+1) {
				t.Errorf("node %d: follower yielded revision %d at position %d", r.node, rev, i)
				break
			}
		}
	}
}

// testNodesFeed checks that a change committed on one node reaches feed
// followers on every node. Each node publishes its own commits, in order;
// two nodes' events committed close together may reach a follower in
// either order (the follower reads the note, whose head is the last word),
// so the test asks for both events, not for an order between them.
func testNodesFeed(t *testing.T, nodes []scribe.Store) {
	var chans []<-chan scribe.NoteChange
	for i, node := range nodes {
		f, ok := node.(scribe.NoteFeed)
		if !ok {
			t.Fatalf("node %d (%T) has no change feed (scribe.NoteFeed): every store needs one, search follows it", i, node)
		}
		chans = append(chans, follow(t, f, ""))
	}
	n := mustCreate(t, nodes[0], "")
	mustAppend(t, nodes[1], n.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "x")))
	for i, ch := range chans {
		seen := map[scribe.Revision]bool{}
		for range 2 {
			c := nextChange(t, ch)
			if c.Lost || c.ID != n.ID || c.Cursor == "" || seen[c.Revision] {
				t.Fatalf("node %d: feed event %+v, want note %s at revisions 0 and 1 (seen %v)", i, c, n.ID, seen)
			}
			seen[c.Revision] = true
		}
		if !seen[0] || !seen[1] {
			t.Fatalf("node %d: feed events for revisions %v, want 0 and 1", i, seen)
		}
	}
}
