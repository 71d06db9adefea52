package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// queryNotes is how many notes BenchmarkQueryNotes lists.
const queryNotes = 10_000

// queryPeople is how many people edit the benchmark's notes: each note
// has one or two of them, so one person's notes are about 1 in 13.
const queryPeople = 20

// BenchmarkQueryNotes measures the note list (Store.QueryNotes) over
// 10,000 notes, each edited by one or two of 20 people, every fourth a
// standup: the first page of 50, a page deep in the list (after 9,000
// notes, through its cursor), a page filtered by person, by template, and
// by a person who edited nothing (the worst case: MaxNoteScan notes read
// for an empty page). Figures in docs/benchmarks.md.
func BenchmarkQueryNotes(b *testing.B, newStore NewStore) {
	s := newStore(b)
	ctx := context.Background()
	start := time.Now()
	fillQueryNotes(b, s)
	b.Logf("created and edited %d notes in %v", queryNotes, time.Since(start).Round(time.Millisecond))
	deep := scribe.NoteQuery{Limit: scribe.MaxNotePage}
	for listed := 0; listed < 9000; {
		page, err := s.QueryNotes(ctx, deep)
		if err != nil {
			b.Fatal(err)
		}
		listed += len(page.Notes)
		deep.After = page.Next
	}
	for _, tc := range []struct {
		name string
		q    scribe.NoteQuery
	}{
		{"first-page", scribe.NoteQuery{Limit: 50}},
		{"deep-page", scribe.NoteQuery{Limit: 50, After: deep.After}},
		{"person", scribe.NoteQuery{Limit: 50, Person: "@person07"}},
		{"template", scribe.NoteQuery{Limit: 50, Template: "standup"}},
		{"person-nobody", scribe.NoteQuery{Limit: 50, Person: "nobody"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var listed int
			for b.Loop() {
				page, err := s.QueryNotes(ctx, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				listed = len(page.Notes)
			}
			b.ReportMetric(float64(listed), "notes/page")
		})
	}
}

// fillQueryNotes creates the benchmark's notes, 8 writers at a time, and
// commits one or two people's edit to each.
func fillQueryNotes(b *testing.B, s scribe.Store) {
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < queryNotes; i += 8 {
				nn := scribe.NewNote{Title: fmt.Sprintf("Sync %d", i), Template: "meeting", CreatedAt: base.Add(time.Duration(i) * time.Hour)}
				if i%4 == 0 {
					nn.Template = "standup"
				}
				n, err := s.CreateNote(ctx, nn)
				if err != nil {
					errs <- err
					return
				}
				p, q := i%queryPeople, (i/queryPeople)%queryPeople
				cs := []scribe.Change{{Op: EditOp("", 0, 0, "a"), Session: fmt.Sprintf("sess-q-%d-a", i), Seq: 1,
					Author: fmt.Sprintf("Person %02d", p), Email: fmt.Sprintf("person%02d@example.com", p)}}
				if i%3 == 0 && p != q {
					cs = append(cs, scribe.Change{Op: EditOp("a", 1, 0, "b"), Session: fmt.Sprintf("sess-q-%d-b", i), Seq: 1,
						Author: fmt.Sprintf("Person %02d", q), Email: fmt.Sprintf("person%02d@example.com", q)})
				}
				if _, err := s.Append(ctx, n.ID, 0, cs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
