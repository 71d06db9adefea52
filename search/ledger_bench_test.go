package search

import (
	"fmt"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// BenchmarkLedgerActions: one person's open items among 10,000 notes of 5
// items each (50,000 items): the cost of GET /api/actions?owner=me.
func BenchmarkLedgerActions(b *testing.B) {
	l := NewLedger()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		n := NoteLedger{ID: scribe.NoteID(fmt.Sprintf("note%06d", i)), Title: "Sync", Date: day.Add(time.Duration(i) * time.Hour),
			Decisions: []string{"Ship on Friday", "Keep the cache"}}
		for j := range 5 {
			n.Tasks = append(n.Tasks, Task{Line: j + 3, Source: "- [ ] x", Text: "do the thing", Owner: fmt.Sprintf("person%d", (i+j)%50), Due: "2026-06-01", Done: j%2 == 0})
		}
		l.put(n)
	}
	b.Run("owner", func(b *testing.B) {
		for range b.N {
			if _, err := l.Actions(ActionQuery{Owners: []string{"person7"}, State: StateOpen, Today: "2026-03-01"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("everyone", func(b *testing.B) {
		for range b.N {
			if _, err := l.Actions(ActionQuery{Today: "2026-03-01"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decisions", func(b *testing.B) {
		for range b.N {
			if _, err := l.Decisions(DecisionQuery{Text: "friday"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
