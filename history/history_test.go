package history_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

func TestLineDiff(t *testing.T) {
	for _, tt := range []struct {
		name, a, b    string
		added, remove int
		unified       string
	}{
		{"same", "a\nb\n", "a\nb\n", 0, 0, ""},
		{"add line", "a\nb\n", "a\nx\nb\n", 1, 0, "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n+x\n b\n"},
		{"remove line", "a\nb\nc\n", "a\nc\n", 0, 1, "--- a\n+++ b\n@@ -1,3 +1,2 @@\n a\n-b\n c\n"},
		{"change", "one\n", "two\n", 1, 1, "--- a\n+++ b\n@@ -1 +1 @@\n-one\n+two\n"},
		{"from empty", "", "x\n", 1, 0, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"},
		{"far apart", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "0\n2\n3\n4\n5\n6\n7\n8\n9\nX\n", 2, 2,
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+X\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := history.LineDiff(tt.a, tt.b, 1, 2)
			if d.Added != tt.added || d.Removed != tt.remove {
				t.Errorf("added %d removed %d, want %d %d", d.Added, d.Removed, tt.added, tt.remove)
			}
			if got := d.Unified("a", "b"); got != tt.unified {
				t.Errorf("unified:\n%s\nwant:\n%s", got, tt.unified)
			}
		})
	}
}

func openBolt(t *testing.T) scribe.Store {
	s := bolt.New(t.TempDir(), bolt.Options{})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRevisions: named checkpoints cut the history, every checkpoint says
// who edited and how much, and paging visits each checkpoint once.
func TestRevisions(t *testing.T) {
	ctx := context.Background()
	s := openBolt(t)
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "t", Text: ""})
	if err != nil {
		t.Fatal(err)
	}
	doc := ""
	edit := func(author, ins string, del int) {
		t.Helper()
		op := storetest.EditOp(doc, len(doc)-del, del, ins)
		rev := scribe.Revision(0)
		if d, err := s.GetNote(ctx, n.ID); err == nil {
			rev = d.Revision
		}
		c := storetest.ChangeOf("sess"+author, uint64(rev)+1, op)
		c.Author = author
		if _, err := s.Append(ctx, n.ID, rev, []scribe.Change{c}); err != nil {
			t.Fatal(err)
		}
		doc = doc[:len(doc)-del] + ins
	}
	edit("Ada", "hello ", 0) // 1
	edit("Bob", "world", 0)  // 2
	if _, err := s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 2, Name: "exported as abc1234"}); err != nil {
		t.Fatal(err)
	}
	edit("Ada", "", 2)  // 3
	edit("Cy", "!!", 0) // 4
	if _, err := s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 3, Name: "mine"}); err != nil {
		t.Fatal(err)
	}
	// The four edits are read as made within one minute, whenever the test
	// runs: a minute boundary between them would add a checkpoint.
	st := oneMinute{s}
	p, err := history.Revisions(ctx, st, n.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Checkpoints {
		got = append(got, strings.Join([]string{itoa(c.Rev), itoa(c.Since), strings.Join(c.Authors, "+"), itoa(scribe.Revision(c.Added)), itoa(scribe.Revision(c.Removed)), strings.Join(c.Names, ",")}, " "))
	}
	want := []string{"4 3 Cy 2 0 ", "3 2 Ada 0 2 mine", "2 0 Bob+Ada 11 0 exported as abc1234", "0 0  0 0 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("checkpoints\n%q\nwant\n%q", got, want)
	}
	if p.Next != 0 {
		t.Errorf("a complete page has next %d", p.Next)
	}
	// Paging one at a time visits the same checkpoints.
	var paged []scribe.Revision
	before := scribe.Revision(0)
	for range 10 {
		p, err := history.Revisions(ctx, st, n.ID, before, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Checkpoints {
			paged = append(paged, c.Rev)
		}
		if p.Next == 0 {
			break
		}
		before = p.Next
	}
	if itoas(paged) != "4 3 2 0" {
		t.Errorf("paged %v, want 4 3 2 0", paged)
	}
}

// oneMinute is a store whose changes read as made a second apart within
// one minute (the store stamps the real time, which a test cannot choose).
type oneMinute struct{ scribe.Store }

func (s oneMinute) Changes(ctx context.Context, id scribe.NoteID, from, to scribe.Revision) ([]scribe.Change, error) {
	cs, err := s.Store.Changes(ctx, id, from, to)
	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for i := range cs {
		cs[i].Time = base.Add(time.Duration(cs[i].Revision) * time.Second)
	}
	return cs, err
}

func itoa(r scribe.Revision) string { return strconv.FormatInt(int64(r), 10) }

func itoas(rs []scribe.Revision) string {
	var s []string
	for _, r := range rs {
		s = append(s, itoa(r))
	}
	return strings.Join(s, " ")
}
