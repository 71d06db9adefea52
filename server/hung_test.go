package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestHungRedisToldToClients stops a private Redis with SIGSTOP while a
// client has an op in flight. The client hears EUNAVAILABLE ("can't save
// right now, your edits are kept") while Redis is still stopped: the
// store's 1.5 s deadline fails the append and the room says so before it
// closes. The client keeps the edit; after SIGCONT it reconnects, resends,
// and the edit is committed exactly once.
func TestHungRedisToldToClients(t *testing.T) {
	ctx := context.Background()
	rs := redistest.StartPrivate(t)
	store, err := redis.New(rs.URL(), redis.Options{Prefix: "hung-test:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n := startNode(t, store, server.Limits{})
	id := n.createNote("Hung", "blank")

	told := make(chan error, 16)
	c, err := client.Dial(ctx, client.NoteURL(n.url, id), client.Options{
		AutoReconnect: true,
		OnError: func(err error) {
			var se *client.ServerError
			if errors.As(err, &se) && se.Code == scribe.EUNAVAILABLE {
				select {
				case told <- err:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	rs.Stop()
	stopped := time.Now()
	op, err := ot.NewBuilder().Retain(c.Len()).Insert("kept").Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Edit(op); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-told:
		t.Logf("told %v after %v, Redis still stopped", err, time.Since(stopped).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("no EUNAVAILABLE while Redis was stopped")
	}
	rs.Continue()

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitSynced(wctx); err != nil {
		t.Fatalf("the held edit was not committed after SIGCONT: %v", err)
	}
	d, err := store.LoadNote(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Text; got != c.Text() || strings.Count(got, "kept") != 1 {
		t.Fatalf("store text %q, client %q: want the edit exactly once", got, c.Text())
	}
	chs, err := store.Changes(ctx, id, 0, d.Revision)
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, ch := range chs {
		if ch.Session == c.Session() {
			mine++
		}
	}
	if mine != 1 {
		t.Fatalf("%d changes of the client's session in the log, want 1", mine)
	}
}
