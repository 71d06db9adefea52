package server_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// startPolling starts a node on its own Redis store that checks the store
// every 100 ms (room.Timing.Resync).
func startPolling(t *testing.T, prefix string) *testNode {
	t.Helper()
	store := redistest.Open(t, prefix)
	s := servertest.Start(t, server.Config{Store: store, Logger: testLogger, Timing: room.Timing{Resync: 100 * time.Millisecond}})
	return &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: store, url: s.URL}
}

// appendEnd sends an op appending s to text (the client's text at rev) and
// waits for its ack, returning the new text and revision.
func appendEnd(c *wsClient, text string, rev int64, seq uint64, s string) (string, int64) {
	c.t.Helper()
	c.send(map[string]any{"type": "op", "rev": rev, "seq": seq, "op": []any{ot.Len16(text), s}})
	a := c.expect("ack")
	return text + s, a.Rev
}

// Redis loses acknowledged revisions (restored from a copy taken earlier, as
// after a power cut with appendfsync everysec), and new edits reuse their
// numbers. A client that was offline across the cut reconnects with its old
// rev and the fingerprint of its text: it gets the full text, and its held
// edit is committed once; an idle node notices and reloads, and its
// clients resynchronise (issue 12, item 11).
func TestLostRevisionsConverge(t *testing.T) {
	prefix := redistest.Prefix(t, "servertest")
	a, b := startPolling(t, prefix), startPolling(t, prefix)
	id := a.createNote("Cut", "blank")
	ctx := context.Background()

	ed := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	w := ed.hello(newSession(), "Editor", nil)
	text, rev := w.Text, w.Rev
	for i, s := range []string{"one ", "two ", "three "} {
		text, rev = appendEnd(ed, text, rev, uint64(i+1), s)
	}

	// The copy Redis will come back from.
	rdb := goredis.NewClient(&goredis.Options{Addr: redistest.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, prefix+"note:{"+string(id)+"}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("note keys: %v %v", keys, err)
	}
	dumps := map[string]string{}
	for _, k := range keys {
		d, err := rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		dumps[k] = d
	}
	cutText, cutRev := text, rev

	// The offline client and the idle node's client see revisions that
	// will be lost.
	off := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	offSession := newSession()
	ow := off.hello(offSession, "Offline", nil)
	idle := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	idle.hello(newSession(), "Idle", nil)
	for i, s := range []string{"lost-a ", "lost-b "} {
		text, rev = appendEnd(ed, text, rev, uint64(4+i), s)
	}
	for range 2 {
		idle.expect("op")
	}
	offRev := ow.Rev
	for range 2 {
		m := off.expect("op")
		offRev = m.Rev
	}
	offText := text // what the offline client has at offRev: the editor's text
	if offRev != rev {
		t.Fatalf("offline client at %d, editor at %d", offRev, rev)
	}
	_ = off.conn.Close() // it goes offline, holding an edit

	// The cut: Redis comes back from the copy.
	for k, d := range dumps {
		if err := rdb.RestoreReplace(ctx, k, 0, d).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := a.store.LoadNote(ctx, id); err != nil || int64(d.Revision) != cutRev || d.Text != cutText {
		t.Fatalf("after the restore: rev %d, %v", d.Revision, err)
	}

	// Both nodes notice (the store's head went backwards) and close their
	// clients so that they reload.
	if code := ed.waitClose(); code != protocol.CloseInternal {
		t.Fatalf("editor on node A closed with %d", code)
	}
	if code := idle.waitClose(); code != protocol.CloseInternal {
		t.Fatalf("idle client on node B closed with %d", code)
	}

	// New edits reuse the lost revision numbers.
	fresh := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	fw := fresh.hello(newSession(), "Fresh", nil)
	if fw.Text != cutText {
		t.Fatalf("fresh client's text %q, want the restored %q", fw.Text, cutText)
	}
	ftext, frev := cutText, fw.Rev
	for i, s := range []string{"new-1 ", "new-2 "} {
		ftext, frev = appendEnd(fresh, ftext, frev, uint64(i+1), s)
	}
	if frev != offRev {
		t.Fatalf("the new edits reached %d, want the offline client's %d", frev, offRev)
	}

	// The offline client comes back with its rev and fingerprint: its
	// revision offRev is another history, so it gets the full text, merges
	// its held edit into it and commits it.
	back := dial(t, wsURL(a.url, "/api/notes/"+string(id)+"/ws"), nil)
	fp := protocol.FingerprintOf(offText)
	back.send(map[string]any{"type": "hello", "protocol": 1, "session": offSession, "name": "Offline", "rev": offRev, "len": fp.Len, "hash": fp.Hash})
	bw := back.expect("welcome")
	if bw.Catchup || !bw.HasText || bw.Text != ftext || bw.Rev != frev {
		t.Fatalf("offline client's welcome: catchup %v, rev %d, text %v", bw.Catchup, bw.Rev, bw.HasText)
	}
	final, _ := appendEnd(back, ftext, bw.Rev, 1, "HELD")

	// The idle node converges: a client reconnecting to it with the
	// fingerprint of the lost history gets the store's text, and so does
	// one without a revision.
	for _, withRev := range []bool{true, false} {
		c := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
		hello := map[string]any{"type": "hello", "protocol": 1, "session": newSession(), "name": "Idle"}
		if withRev {
			hello["rev"], hello["len"], hello["hash"] = offRev, fp.Len, fp.Hash
		}
		c.send(hello)
		m := c.expect("welcome")
		if m.Catchup || !m.HasText {
			t.Fatalf("node B's welcome (rev given: %v): a catch-up on another history", withRev)
		}
		// The last commit may reach node B just after the welcome.
		doc, err := ot.NewDocument(m.Text)
		if err != nil {
			t.Fatal(err)
		}
		for doc.String() != final {
			m := c.expect("op")
			op, err := ot.ParseJSON(m.Op)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Apply(op); err != nil {
				t.Fatalf("node B's op does not apply: %v", err)
			}
		}
	}
	if d, err := b.store.LoadNote(ctx, id); err != nil || d.Text != final {
		t.Fatalf("store text %q, want %q (%v)", d.Text, final, err)
	}
}
