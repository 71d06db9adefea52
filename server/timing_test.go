package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/server"
)

// shortTimers makes rooms close, poll, republish, expire and re-check
// within a fraction of a second, through the server's config.
var shortTimers = room.Timing{
	Grace: 150 * time.Millisecond, Resync: 50 * time.Millisecond, PresenceRefresh: 100 * time.Millisecond,
	PresenceExpiry: 400 * time.Millisecond, RevokeCheck: 100 * time.Millisecond,
}

// metricValue reads one unlabelled sample from /metrics.
func metricValue(t *testing.T, n *testNode, name string) string {
	t.Helper()
	_, _, body := request(t, "GET", n.url+"/metrics", "", "", nil)
	return strings.TrimPrefix(metricLine(string(body), name), name+" ")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A session closes itself once its last client has been gone for the grace
// period, and the note opens again for the next client.
func TestIdleSessionCloses(t *testing.T) {
	t.Parallel()
	node := startNodeTiming(t, newBoltStore(t), server.Limits{}, shortTimers)
	id := node.createNote("Idle", "blank")
	e := newEditor(t, node, id, "First", 1)
	e.edit()
	e.settle(0)
	if v := metricValue(t, node, "scribe_notes_open"); v != "1" {
		t.Fatalf("notes open = %s", v)
	}
	_ = e.conn.Close()
	eventually(t, "the idle session closes", func() bool { return metricValue(t, node, "scribe_notes_open") == "0" })
	again := newEditor(t, node, id, "Second", 2)
	if again.doc != node.text(id) || again.rev != 1 {
		t.Fatalf("reopened at rev %d with %q", again.rev, again.doc)
	}
	again.edit()
	again.settle(0)
}

// A peer announced by a node that then falls silent (it died) expires, and
// the clients are told it left.
func TestSilentNodePeerExpires(t *testing.T) {
	t.Parallel()
	node := startNodeTiming(t, newBoltStore(t), server.Limits{}, shortTimers)
	id := node.createNote("Ghost node", "blank")
	c := dial(t, wsURL(node.url, "/api/notes/"+string(id)+"/ws"), nil)
	c.hello(newSession(), "Alive", nil)
	msg, _ := json.Marshal(map[string]any{"v": 1, "node": "n_dead", "kind": "presence",
		"peers": []map[string]any{{"client": "c_ghost", "name": "Ghost", "color": "#000000", "rev": 0, "sel": []map[string]int{{"anchor": 0, "head": 0}}, "hasSel": true}}})
	if err := node.store.Publish(context.Background(), id, msg); err != nil {
		t.Fatal(err)
	}
	for {
		if m := c.next(); m.Type == "presence" && m.Client == "c_ghost" && m.Name == "Ghost" {
			break
		}
	}
	for {
		if m := c.next(); m.Type == "leave" && m.Client == "c_ghost" {
			break
		}
	}
}

// A share revoked where no revocation message reaches the node (here:
// straight in the store) still closes its live connections, through the
// periodic re-check.
func TestRevocationRecheck(t *testing.T) {
	t.Parallel()
	node := startNodeTiming(t, newBoltStore(t), server.Limits{}, shortTimers)
	id := node.createNote("Recheck", "blank")
	sh, err := node.store.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ro := dial(t, wsURL(node.url, "/api/shares/"+string(sh.Token)+"/ws"), nil)
	ro.hello(newSession(), "Viewer", nil)
	if err := node.store.RevokeShare(context.Background(), sh.Token); err != nil {
		t.Fatal(err)
	}
	if code := ro.waitClose(); code != 4404 {
		t.Fatalf("closed with %d, want 4404", code)
	}
	if _, err := node.store.ResolveShare(context.Background(), sh.Token); scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatal(err)
	}
}
