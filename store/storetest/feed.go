package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// FeedStore is a Store with a change feed.
type FeedStore interface {
	scribe.Store
	scribe.NoteFeed
}

// NewFeedStore returns a fresh, open store with an empty namespace whose
// change feed keeps about feedLength events, and registers its Close with
// tb.Cleanup.
type NewFeedStore func(tb testing.TB, feedLength int) FeedStore

// feedLength is the cap the suite asks for: small, so that being away
// longer than it is quick to arrange.
const feedLength = 20

// RunFeed runs the guarantees of scribe.NoteFeed: every create, every
// writing append and every new title is one event, in order, from the cursor given; a cursor
// older than the feed keeps starts with Lost; EachNote visits every note;
// following ends with the context.
func RunFeed(t *testing.T, newStore NewFeedStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s FeedStore)
	}{
		{"FeedEvents", testFeedEvents},
		{"FeedFromNow", testFeedFromNow},
		{"FeedLost", testFeedLost},
		{"FeedInvalid", testFeedInvalid},
		{"FeedEnd", testFeedEnd},
		{"EachNote", testEachNote},
		{"FeedDelete", testFeedDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t, feedLength))
		})
	}
}

// nextChange returns the next feed event, failing after waitTimeout.
func nextChange(t *testing.T, ch <-chan scribe.NoteChange) scribe.NoteChange {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("feed ended early")
		}
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no feed event within the wait bound")
	}
	return scribe.NoteChange{}
}

func follow(t *testing.T, f scribe.NoteFeed, since scribe.FeedCursor) <-chan scribe.NoteChange {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := f.FollowChanges(ctx, since)
	if err != nil {
		t.Fatalf("follow changes: %v", err)
	}
	return ch
}

func wantChange(t *testing.T, c scribe.NoteChange, id scribe.NoteID, rev scribe.Revision) {
	t.Helper()
	if c.Lost || c.ID != id || c.Revision != rev || c.Cursor == "" {
		t.Fatalf("feed event %+v, want note %s at revision %d", c, id, rev)
	}
}

func testFeedEvents(t *testing.T, s FeedStore) {
	ctx := context.Background()
	head, err := s.FeedHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := mustCreate(t, s, "abc")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("abc", 3, 0, "d")), ChangeOf("s", 2, EditOp("abcd", 4, 0, "e")))
	// A resend writes nothing and publishes nothing.
	mustAppend(t, s, n.ID, 2, ChangeOf("s", 2, EditOp("abcd", 4, 0, "e")))
	m := mustCreate(t, s, "")
	mustAppend(t, s, n.ID, 2, ChangeOf("s", 3, EditOp("abcde", 0, 1, "")))

	ch := follow(t, s, head)
	wantChange(t, nextChange(t, ch), n.ID, 0)
	second := nextChange(t, ch)
	wantChange(t, second, n.ID, 2)
	wantChange(t, nextChange(t, ch), m.ID, 0)
	wantChange(t, nextChange(t, ch), n.ID, 3)

	// Resuming from an event's cursor delivers what came after it.
	ch2 := follow(t, s, second.Cursor)
	wantChange(t, nextChange(t, ch2), m.ID, 0)
	wantChange(t, nextChange(t, ch2), n.ID, 3)
	// And new events reach both followers.
	mustAppend(t, s, m.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "x")))
	wantChange(t, nextChange(t, ch), m.ID, 1)
	wantChange(t, nextChange(t, ch2), m.ID, 1)

	// A new title is an event at the unchanged revision; guest editing is not.
	guest := true
	if _, err := s.UpdateNote(ctx, m.ID, scribe.NoteUpdate{GuestEdit: &guest}); err != nil {
		t.Fatal(err)
	}
	title := "Renamed"
	if _, err := s.UpdateNote(ctx, m.ID, scribe.NoteUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	wantChange(t, nextChange(t, ch), m.ID, 1)
}

func testFeedFromNow(t *testing.T, s FeedStore) {
	n := mustCreate(t, s, "")
	ch := follow(t, s, "")
	m := mustCreate(t, s, "")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "x")))
	wantChange(t, nextChange(t, ch), m.ID, 0)
	wantChange(t, nextChange(t, ch), n.ID, 1)
}

func testFeedLost(t *testing.T, s FeedStore) {
	ctx := context.Background()
	head, err := s.FeedHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := mustCreate(t, s, "")
	doc := ""
	// Far more events than the feed keeps (an approximate cap may keep
	// somewhat more than asked).
	const edits = 40 * feedLength
	for i := range edits {
		op := EditOp(doc, Len(doc), 0, "x")
		mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("s", uint64(i+1), op))
		doc += "x"
	}
	ch := follow(t, s, head)
	c := nextChange(t, ch)
	if !c.Lost || c.ID != "" {
		t.Fatalf("first event after being away for %d events is %+v, want Lost", edits, c)
	}
	// After the Lost event, following goes on from there.
	mustAppend(t, s, n.ID, edits, ChangeOf("s", edits+1, EditOp(doc, 0, 0, "y")))
	for {
		c := nextChange(t, ch)
		if c.Lost {
			t.Fatalf("a second Lost event: %+v", c)
		}
		if c.Revision == edits+1 {
			wantChange(t, c, n.ID, edits+1)
			break
		}
	}
}

func testFeedInvalid(t *testing.T, s FeedStore) {
	ctx := context.Background()
	for _, cur := range []scribe.FeedCursor{"x", "nonsense-cursor", "-"} {
		_, err := s.FollowChanges(ctx, cur)
		wantCode(t, err, scribe.EINVALID, "follow from "+string(cur))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.FollowChanges(cctx, ""); err != context.Canceled {
		t.Errorf("follow with a cancelled context: %v, want context.Canceled", err)
	}
}

func testFeedEnd(t *testing.T, s FeedStore) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.FollowChanges(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				goto closed
			}
		case <-deadline:
			t.Fatal("feed not closed after its context was cancelled")
		}
	}
closed:
	// Closing the store ends its followers too.
	ch, err = s.FollowChanges(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("an event after Close")
		}
	case <-time.After(waitTimeout):
		t.Fatal("feed not closed by Close")
	}
}

func testEachNote(t *testing.T, s FeedStore) {
	ctx := context.Background()
	want := map[scribe.NoteID]scribe.Revision{}
	for i := range 2500 / 100 {
		n := mustCreate(t, s, "")
		if i%3 == 0 {
			mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "x")))
			want[n.ID] = 1
		} else {
			want[n.ID] = 0
		}
	}
	got := map[scribe.NoteID]scribe.Revision{}
	if err := s.EachNote(ctx, func(n scribe.Note) error {
		got[n.ID] = n.Revision
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("EachNote visited %d notes, want %d", len(got), len(want))
	}
	for id, rev := range want {
		if r, ok := got[id]; !ok || r != rev {
			t.Errorf("note %s: visited %v at revision %d, want revision %d", id, ok, r, rev)
		}
	}
	stop := context.Canceled
	calls := 0
	if err := s.EachNote(ctx, func(scribe.Note) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("EachNote with fn failing: %v after %d calls, want fn's error after 1", err, calls)
	}
}
