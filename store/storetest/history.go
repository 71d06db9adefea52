package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// MaxTextAt is how long TextAt may take, in the suite, to read a revision
// HistoryOps changes back: the contract promises a bounded replay, and the
// issue "under 100 ms on this machine"; the suite allows for -race and a
// busy machine.
const MaxTextAt = 500 * time.Millisecond

// historyTests are the scribe.HistoryStore guarantees; Run runs them.
var historyTests = []struct {
	name string
	fn   func(t *testing.T, s scribe.Store)
}{
	{"TextAtRandomRevisions", testTextAtRandom},
	{"TextAtLongHistory", testTextAtLongHistory},
	{"TextAtInvalid", testTextAtInvalid},
	{"Checkpoints", testCheckpoints},
}

// recordHistory appends ops random changes to a new note in batches of
// random size (so snapshot and history boundaries fall anywhere) and
// returns the note and the text at every revision.
func recordHistory(t *testing.T, s scribe.Store, ops int, seed uint64) (scribe.Note, []string) {
	t.Helper()
	n := mustCreate(t, s, "history")
	rng := rand.New(rand.NewPCG(seed, 2))
	texts := make([]string, 1, ops+1)
	texts[0] = "history"
	for len(texts) <= ops {
		rev := scribe.Revision(len(texts) - 1)
		size := min(1+rng.IntN(300), ops-int(rev))
		batch := make([]scribe.Change, size)
		for i := range batch {
			doc := texts[len(texts)-1]
			op := RandomOp(rng, doc, 100)
			batch[i] = ChangeOf("hist", uint64(len(texts)), op)
			next, err := Apply(doc, op)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, next)
		}
		mustAppend(t, s, n.ID, rev, batch...)
	}
	return n, texts
}

// testTextAtRandom: the text at random revisions (and at 0 and the head)
// equals a replay of the log from the note's first text.
func testTextAtRandom(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	const ops = 5000
	n, texts := recordHistory(t, s, ops, 7)
	rng := rand.New(rand.NewPCG(3, 4))
	revs := []int{0, 1, ops, ops - 1, 999, 1000, 1001, 2000}
	for range 200 {
		revs = append(revs, rng.IntN(ops+1))
	}
	for _, r := range revs {
		got, err := s.TextAt(ctx, n.ID, scribe.Revision(r))
		if err != nil {
			t.Fatalf("TextAt(%d): %v", r, err)
		}
		if got != texts[r] {
			t.Fatalf("TextAt(%d) = %q, want %q (a replay)", r, got, texts[r])
		}
	}
	// Appending more keeps the past as it was.
	mustAppend(t, s, n.ID, ops, ChangeOf("more", 1, EditOp(texts[ops], 0, 0, "more ")))
	for _, r := range []int{0, ops / 2, ops} {
		if got, err := s.TextAt(ctx, n.ID, scribe.Revision(r)); err != nil || got != texts[r] {
			t.Fatalf("after another edit, TextAt(%d) = %q, %v; want %q", r, got, err, texts[r])
		}
	}
}

// testTextAtLongHistory: a revision HistoryOps changes back is read from a
// snapshot, not replayed from the start.
func testTextAtLongHistory(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "history")
	rng := rand.New(rand.NewPCG(11, 1))
	doc, rev := "history", 0
	want := map[int]string{0: doc}
	probes := []int{1, 1234, HistoryOps / 2, HistoryOps - 10_000, HistoryOps - 1000}
	isProbe := map[int]bool{}
	for _, p := range probes {
		isProbe[p] = true
	}
	for rev < HistoryOps {
		size := min(1000, HistoryOps-rev)
		batch := make([]scribe.Change, size)
		for i := range batch {
			op := RandomOp(rng, doc, 100)
			batch[i] = ChangeOf("bulk", uint64(rev+i+1), op)
			var err error
			if doc, err = Apply(doc, op); err != nil {
				t.Fatal(err)
			}
			if isProbe[rev+i+1] {
				want[rev+i+1] = doc
			}
		}
		mustAppend(t, s, n.ID, scribe.Revision(rev), batch...)
		rev += size
	}
	want[HistoryOps] = doc
	for r, text := range want {
		var best time.Duration
		for range 3 {
			start := time.Now()
			got, err := s.TextAt(ctx, n.ID, scribe.Revision(r))
			d := time.Since(start)
			if err != nil || got != text {
				t.Fatalf("TextAt(%d) = %q, %v; want %q", r, got, err, text)
			}
			if best == 0 || d < best {
				best = d
			}
		}
		t.Logf("TextAt %d back: %v", HistoryOps-r, best)
		if best > MaxTextAt {
			t.Errorf("TextAt %d revisions back took %v, want under %v (history snapshots)", HistoryOps-r, best, MaxTextAt)
		}
	}
	checkAuthorsCost(t, s, n.ID, want)
}

func testTextAtInvalid(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "abc")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("abc", 3, 0, "d")))
	_, err := s.TextAt(ctx, n.ID, 2)
	wantCode(t, err, scribe.EINVALID, "TextAt beyond the head")
	_, err = s.TextAt(ctx, n.ID, -1)
	wantCode(t, err, scribe.EINVALID, "TextAt(-1)")
	_, err = s.TextAt(ctx, scribe.NewNoteID(), 0)
	wantCode(t, err, scribe.ENOTFOUND, "TextAt of an unknown note")
	_, err = s.TextAt(ctx, "../x", 0)
	wantCode(t, err, scribe.ENOTFOUND, "TextAt of a malformed id")
	if got, err := s.TextAt(ctx, n.ID, 0); err != nil || got != "abc" {
		t.Errorf("TextAt(0) = %q, %v; want the note's first text", got, err)
	}
	if got, err := s.TextAt(ctx, n.ID, 1); err != nil || got != "abcd" {
		t.Errorf("TextAt(1) = %q, %v; want abcd", got, err)
	}
}

func testCheckpoints(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	doc := ""
	for i := range 10 {
		mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("s", uint64(i+1), EditOp(doc, len(doc), 0, "x")))
		doc += "x"
	}
	if cs, err := s.Checkpoints(ctx, n.ID, 0, 10); err != nil || len(cs) != 0 {
		t.Fatalf("Checkpoints of a note with none = %v, %v", cs, err)
	}
	by := scribe.Person{Name: "Ada", Email: "ada@example.com"}
	for _, c := range []scribe.Checkpoint{{Rev: 2, Name: "two"}, {Rev: 5, Name: "five", By: by}, {Rev: 5, Name: "exported as abc1234"}, {Rev: 10, Name: "head"}, {Rev: 0, Name: "start"}} {
		got, err := s.AddCheckpoint(ctx, n.ID, c)
		if err != nil {
			t.Fatalf("AddCheckpoint(%+v): %v", c, err)
		}
		if got.Time.IsZero() || got.Rev != c.Rev || got.Name != c.Name || got.By != c.By {
			t.Errorf("AddCheckpoint(%+v) = %+v", c, got)
		}
	}
	all, err := s.Checkpoints(ctx, n.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var revs []scribe.Revision
	for _, c := range all {
		revs = append(revs, c.Rev)
	}
	if want := []scribe.Revision{10, 5, 5, 2, 0}; !equalRevs(revs, want) {
		t.Fatalf("Checkpoints revisions = %v, want %v (newest first)", revs, want)
	}
	if all[3].Name != "two" || all[1].By != by && all[2].By != by {
		t.Errorf("Checkpoints lost a name or maker: %+v", all)
	}
	page, err := s.Checkpoints(ctx, n.ID, 5, 1)
	if err != nil || len(page) != 1 || page[0].Rev != 2 {
		t.Errorf("Checkpoints(before 5, 1) = %+v, %v; want the one at 2", page, err)
	}
	page, err = s.Checkpoints(ctx, n.ID, 11, 2)
	if err != nil || len(page) != 2 || page[0].Rev != 10 || page[1].Rev != 5 {
		t.Errorf("Checkpoints(before 11, 2) = %+v, %v", page, err)
	}
	_, err = s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 11, Name: "future"})
	wantCode(t, err, scribe.EINVALID, "a checkpoint beyond the head")
	_, err = s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 1, Name: " "})
	wantCode(t, err, scribe.EINVALID, "a checkpoint with a blank name")
	_, err = s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 1, Name: "a\nb"})
	wantCode(t, err, scribe.EINVALID, "a checkpoint with a control character")
	_, err = s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 1, Name: "exported as x", Commit: "not a hash"})
	wantCode(t, err, scribe.EINVALID, "a checkpoint whose commit is not a hash")
	_, err = s.AddCheckpoint(ctx, scribe.NewNoteID(), scribe.Checkpoint{Rev: 0, Name: "x"})
	wantCode(t, err, scribe.ENOTFOUND, "a checkpoint of an unknown note")
	_, err = s.Checkpoints(ctx, scribe.NewNoteID(), 0, 10)
	wantCode(t, err, scribe.ENOTFOUND, "Checkpoints of an unknown note")
	_, err = s.Checkpoints(ctx, n.ID, 0, 0)
	wantCode(t, err, scribe.EINVALID, "Checkpoints with limit 0")
	if again, _ := s.Checkpoints(ctx, n.ID, 0, 100); len(again) != len(all) {
		t.Errorf("refused checkpoints were stored: %d, want %d", len(again), len(all))
	}

	// The latest export: the one at 5 (named, from before commits were
	// recorded), then one with its full commit at 8.
	last, ok, err := scribe.LastExport(ctx, s, n.ID)
	if err != nil || !ok || last.Rev != 5 || last.ExportCommit() != "abc1234" {
		t.Errorf("LastExport = %+v, %v, %v; want the one at 5", last, ok, err)
	}
	sha := "0123456789abcdef0123456789abcdef01234567"
	if _, err := s.AddCheckpoint(ctx, n.ID, scribe.ExportCheckpoint(8, sha, by)); err != nil {
		t.Fatal(err)
	}
	last, ok, err = scribe.LastExport(ctx, s, n.ID)
	if err != nil || !ok || last.Rev != 8 || last.Commit != sha || last.Name != "exported as 0123456789ab" || last.By != by {
		t.Errorf("LastExport = %+v, %v, %v; want the one at 8 with its commit", last, ok, err)
	}
}

func equalRevs(a, b []scribe.Revision) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testNodesHistory: the text at a revision and the checkpoints are the
// same on every node, whichever wrote them.
func testNodesHistory(t *testing.T, nodes []scribe.Store) {
	ctx := context.Background()
	n, texts := recordHistory(t, nodes[0], 2500, 5)
	for i, s := range nodes {
		for _, r := range []int{0, 700, 1500, 2500} {
			if got, err := s.TextAt(ctx, n.ID, scribe.Revision(r)); err != nil || got != texts[r] {
				t.Fatalf("node %d: TextAt(%d) = %q, %v; want %q", i, r, got, err, texts[r])
			}
		}
	}
	if _, err := nodes[1].AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 1200, Name: "on node 1"}); err != nil {
		t.Fatal(err)
	}
	for i, s := range nodes {
		cs, err := s.Checkpoints(ctx, n.ID, 0, 10)
		if err != nil || len(cs) != 1 || cs[0].Name != "on node 1" {
			t.Errorf("node %d: Checkpoints = %+v, %v", i, cs, err)
		}
	}
}

// benchTextAt measures TextAt of a revision back changes behind the head
// of a note with HistoryOps changes (Benchmark runs it for 1k, 10k, 100k).
func benchTextAt(b *testing.B, s scribe.Store, backs []int) {
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "bench", Text: "history"})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	doc, rev := "history", 0
	for rev < HistoryOps {
		batch := make([]scribe.Change, 1000)
		for i := range batch {
			op := RandomOp(rng, doc, 100)
			batch[i] = ChangeOf("bulk", uint64(rev+i+1), op)
			if doc, err = Apply(doc, op); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Append(ctx, n.ID, scribe.Revision(rev), batch); err != nil {
			b.Fatal(err)
		}
		rev += len(batch)
	}
	for _, back := range backs {
		b.Run(fmt.Sprintf("back=%d", back), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				// Vary the revision a little so no cache of one answer helps.
				r := max(HistoryOps-back-i%500, 0)
				if _, err := s.TextAt(ctx, n.ID, scribe.Revision(r)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
