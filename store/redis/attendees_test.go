package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// TestAppendPassesAttendeeOnce: once an append has recorded an author in
// the note's people field, later appends do not pass the author to
// append.lua again (the script searched the field for every author of
// every batch) until recordedFor has passed, when they pass everyone
// again, so a record lost behind the store's back (a Redis failover) comes
// back. The lost record is simulated by deleting the field.
func TestAppendPassesAttendeeOnce(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	s := openStore(t, backends[0], Options{clock: func() time.Time { return clock }})
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "attendees"})
	if err != nil {
		t.Fatal(err)
	}
	meta := s.noteKey(n.ID, "meta")
	rev := scribe.Revision(0)
	appendOne := func() {
		t.Helper()
		op := `["x"]`
		if rev > 0 {
			op = fmt.Sprintf(`[%d,"x"]`, rev)
		}
		revs, err := s.Append(ctx, n.ID, rev, []scribe.Change{{Op: []byte(op), Session: "s1", Seq: uint64(rev) + 1, Author: "Ann"}})
		if err != nil {
			t.Fatalf("append at %d: %v", rev, err)
		}
		rev = revs[0]
	}
	people := func() string {
		t.Helper()
		v, err := s.client.HGet(ctx, meta, "people").Result()
		if err != nil && err.Error() != "redis: nil" {
			t.Fatal(err)
		}
		return v
	}

	appendOne()
	if p := people(); !strings.Contains(p, `"n":"Ann"`) {
		t.Fatalf("after Ann's first edit, people is %q", p)
	}
	if err := s.client.HDel(ctx, meta, "people").Err(); err != nil {
		t.Fatal(err)
	}
	appendOne()
	if p := people(); p != "" {
		t.Fatalf("Ann was passed again within the interval: people is %q", p)
	}
	clock = clock.Add(recordedFor)
	appendOne()
	if p := people(); !strings.Contains(p, `"n":"Ann"`) {
		t.Fatalf("%v later, Ann's record did not come back: people is %q", recordedFor, p)
	}
}
