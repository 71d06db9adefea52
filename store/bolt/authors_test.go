package bolt_test

import (
	"context"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// BenchmarkSnapshotAuthors is the work keeping authorship adds to the
// appends, once per snapshot: who wrote the text SnapshotEvery-1 changes
// after the last snapshot's authorship (keepAuthors runs this in the
// append that writes the next snapshot). Divided by SnapshotEvery it is
// the cost per edit (docs/benchmarks.md).
func BenchmarkSnapshotAuthors(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "bench", Text: "# Notes\n"})
	if err != nil {
		b.Fatal(err)
	}
	doc := "# Notes\n"
	people := []string{"ada", "grace", "zoe"}
	for i := range 199 { // a snapshot (and its authorship) at 100; 99 changes after it
		op := storetest.EditOp(doc, storetest.Len(doc), 0, "word ")
		c := storetest.ChangeOf(people[i%3], uint64(i+1), op)
		if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{c}); err != nil {
			b.Fatal(err)
		}
		doc += "word "
	}
	b.Run("AuthorsAt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.AuthorsAt(ctx, n.ID, 199); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same read of the text, for comparison.
	b.Run("TextAt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.TextAt(ctx, n.ID, 199); err != nil {
				b.Fatal(err)
			}
		}
	})
}
