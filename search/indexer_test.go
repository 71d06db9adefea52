package search_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/storetest"
)

// waitBound bounds every wait on the index: a failure bound, well above
// the 2 s the indexer promises (Debounce is 1 s).
const waitBound = 10 * time.Second

type feedStore interface {
	scribe.Store
	scribe.NoteFeed
}

func openBolt(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	s := bolt.New(dir, bolt.Options{})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// startIndexer opens the index in dir ("" in memory) and an Indexer of s
// into it, both closed when the test ends.
func startIndexer(t *testing.T, s scribe.Store, feed scribe.NoteFeed, dir string) (*search.Indexer, *search.Bleve) {
	t.Helper()
	b, err := search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := search.NewIndexer(s, feed, b, b.Fresh(), search.IndexerOptions{})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		x.Close()
		b.Close()
	})
	return x, b
}

func waitFor(t *testing.T, x *search.Indexer, id scribe.NoteID, rev scribe.Revision) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if err := x.WaitFor(ctx, id, rev); err != nil {
		t.Fatalf("note %s at revision %d not indexed: %v", id, rev, err)
	}
}

func find(t *testing.T, b search.Index, text string) []scribe.NoteID {
	t.Helper()
	res, err := b.Search(context.Background(), search.Query{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return ids(res)
}

// edit appends the insertion of ins at the end of the note's text.
func edit(t *testing.T, s scribe.Store, id scribe.NoteID, ins string) scribe.Revision {
	t.Helper()
	ctx := context.Background()
	d, err := s.LoadNote(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	op := storetest.EditOp(d.Text, storetest.Len(d.Text), 0, ins)
	revs, err := s.Append(ctx, id, d.Revision, []scribe.Change{storetest.ChangeOf("indexer-test", uint64(d.Revision)+1, op)})
	if err != nil {
		t.Fatal(err)
	}
	return revs[0]
}

// hiding stands in for note deletion, which the stores do not have yet:
// LoadNote and EachNote act as if the hidden notes were gone.
type hiding struct {
	feedStore
	mu     sync.Mutex
	hidden map[scribe.NoteID]bool
}

func (h *hiding) hide(id scribe.NoteID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hidden[id] = true
}

func (h *hiding) isHidden(id scribe.NoteID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hidden[id]
}

func (h *hiding) LoadNote(ctx context.Context, id scribe.NoteID) (scribe.Document, error) {
	if h.isHidden(id) {
		return scribe.Document{}, scribe.Errorf(scribe.ENOTFOUND, "Note not found.")
	}
	return h.feedStore.LoadNote(ctx, id)
}

func (h *hiding) EachNote(ctx context.Context, fn func(scribe.Note) error) error {
	return h.feedStore.EachNote(ctx, func(n scribe.Note) error {
		if h.isHidden(n.ID) {
			return nil
		}
		return fn(n)
	})
}

func TestIndexerFollowsEdits(t *testing.T) {
	s := &hiding{feedStore: openBolt(t, t.TempDir()), hidden: map[scribe.NoteID]bool{}}
	x, b := startIndexer(t, s, s, "")
	ctx := context.Background()

	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "Design review", Template: "review", Text: "# Design review\n"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, x, n.ID, 0)
	if got := find(t, b, "design review "); !slices.Equal(got, []scribe.NoteID{n.ID}) {
		t.Fatalf("new note: found %v", got)
	}

	start := time.Now()
	rev := edit(t, s, n.ID, "\nWe chose PostgreSQL 🐘 over Café-DB.\n")
	waitFor(t, x, n.ID, rev)
	lag := time.Since(start)
	if got := find(t, b, "postgresql "); !slices.Equal(got, []scribe.NoteID{n.ID}) {
		t.Fatalf("after the edit: found %v", got)
	}
	if got := find(t, b, "cafe-db "); !slices.Equal(got, []scribe.NoteID{n.ID}) {
		t.Fatalf("accent-folded word after the edit: found %v", got)
	}
	if lag > 2*time.Second {
		t.Errorf("the edit took %v to become findable, want under 2s", lag)
	}

	// A burst of edits: the last one is findable within the bound.
	for i := range 20 {
		edit(t, s, n.ID, " word"+string(rune('a'+i)))
	}
	rev = edit(t, s, n.ID, " zebra")
	waitFor(t, x, n.ID, rev)
	if got := find(t, b, "zebra "); !slices.Equal(got, []scribe.NoteID{n.ID}) {
		t.Fatalf("after a burst: found %v", got)
	}

	// A deleted note stops being findable: the indexer hears of its change
	// and finds it gone.
	s.hide(n.ID)
	edit(t, s.feedStore, n.ID, " gone")
	waitFor(t, x, n.ID, -1)
	if got := find(t, b, "postgresql "); len(got) != 0 {
		t.Fatalf("deleted note still found: %v", got)
	}
}

// TestIndexerRebuild checks that an index whose directory is missing is
// rebuilt from the store's notes, and that an index kept across a restart
// catches up with what changed while it was closed.
func TestIndexerRebuild(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	indexDir := filepath.Join(dataDir, "search")
	s := openBolt(t, dataDir)
	var notes []scribe.Note
	for _, text := range []string{"alpha 会议记录", "beta نؤجل الإطلاق", "gamma résumé"} {
		n, err := s.CreateNote(ctx, scribe.NewNote{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	// No index yet: it is built from the notes.
	b, err := search.OpenBleve(indexDir)
	if err != nil {
		t.Fatal(err)
	}
	x := search.NewIndexer(s, s, b, b.Fresh(), search.IndexerOptions{})
	if err := x.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		waitFor(t, x, n.ID, 0)
	}
	if got := find(t, b, "会议 "); !slices.Equal(got, []scribe.NoteID{notes[0].ID}) {
		t.Fatalf("rebuilt index: found %v", got)
	}
	x.Close()
	b.Close()

	// While no indexer runs, a note changes; the kept index catches up
	// (its cursor belongs to no later run of the feed: Lost, resync).
	rev := edit(t, s, notes[2].ID, " delta")
	b, err = search.OpenBleve(indexDir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Fresh() {
		t.Fatal("a current index was recreated")
	}
	x = search.NewIndexer(s, s, b, b.Fresh(), search.IndexerOptions{})
	if err := x.Open(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, x, notes[2].ID, rev)
	if got := find(t, b, "delta "); !slices.Equal(got, []scribe.NoteID{notes[2].ID}) {
		t.Fatalf("after restart: found %v", got)
	}
	x.Close()
	b.Close()
}

func randomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "scribetest:search:" + hex.EncodeToString(b[:]) + ":"
}

func openRedis(t *testing.T, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.New("redis://127.0.0.1:6379/0", redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("open redis (is it running?): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestIndexersOnTwoNodes runs two "nodes" on one Redis, each with its own
// store and in-memory index: an edit on either is findable on both, a
// deleted note on neither, and both answer a query the same way.
func TestIndexersOnTwoNodes(t *testing.T) {
	ctx := context.Background()
	prefix := randomPrefix()
	t.Cleanup(func() { cleanRedis(t, prefix) })
	a := &hiding{feedStore: openRedis(t, prefix), hidden: map[scribe.NoteID]bool{}}
	bStore := &hiding{feedStore: openRedis(t, prefix), hidden: map[scribe.NoteID]bool{}}

	// A note from before the nodes start: found by their rebuilds.
	old, err := a.CreateNote(ctx, scribe.NewNote{Title: "Kickoff", Text: "# Kickoff\nroadmap for the year"})
	if err != nil {
		t.Fatal(err)
	}
	xa, ia := startIndexer(t, a, a, "")
	xb, ib := startIndexer(t, bStore, bStore, "")
	waitFor(t, xa, old.ID, 0)
	waitFor(t, xb, old.ID, 0)

	n, err := bStore.CreateNote(ctx, scribe.NewNote{Title: "Roadmap", Template: "planning", Text: "# Roadmap\n"})
	if err != nil {
		t.Fatal(err)
	}
	rev := edit(t, a, n.ID, "roadmap roadmap: ship search 🔎, شكرا, 検索")
	for _, x := range []*search.Indexer{xa, xb} {
		waitFor(t, x, n.ID, rev)
	}
	for _, q := range []string{"roadmap", "検索 ", "ship sea", `"ship search"`} {
		ra, err := ia.Search(ctx, search.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		rb, err := ib.Search(ctx, search.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(ra.Hits) == 0 || !slices.Equal(ids(ra), ids(rb)) || ra.Total != rb.Total {
			t.Errorf("query %q: node A found %v, node B %v", q, ids(ra), ids(rb))
		}
	}

	a.hide(n.ID)
	bStore.hide(n.ID)
	edit(t, a.feedStore, n.ID, " bye")
	waitFor(t, xa, n.ID, -1)
	waitFor(t, xb, n.ID, -1)
	for _, b := range []search.Index{ia, ib} {
		if got := find(t, b, "roadmap"); !slices.Equal(got, []scribe.NoteID{old.ID}) {
			t.Errorf("after deletion: found %v, want only the kickoff", got)
		}
	}
}

func cleanRedis(t testing.TB, prefix string) {
	c, err := redis.NewClient("redis://127.0.0.1:6379/0")
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	err = iter.Err()
	if err == nil && len(keys) > 0 {
		err = c.Del(ctx, keys...).Err()
	}
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
