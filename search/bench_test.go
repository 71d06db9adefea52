package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/store/storetest"
)

// Words for generated meeting notes: a working vocabulary, so that terms
// repeat across notes as they do in a team's real notes.
var (
	benchPeople    = []string{"Ada", "Bob", "Carol", "Dmitri", "Eve", "Fatima", "Grace", "Hiro", "Ines", "José", "Kwame", "Li Wei", "Mona", "Nadia", "Omar", "Priya"}
	benchTemplates = []string{"weekly", "retro", "planning", "one-on-one", "incident", "design-review"}
	benchWords     = strings.Fields(`the a we to of and for on in with release build deploy migration database
		latency budget roadmap customer onboarding search index cache redis postgres kubernetes cluster
		outage incident postmortem alert dashboard metrics hiring interview offsite quarter goal okr
		design review api client mobile web browser performance memory cpu cost invoice billing
		security audit token login session export git backup restore schedule deadline risk blocker
		dependency vendor contract legal privacy gdpr accessibility translation café résumé naïve`)
)

func sentence(rng *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = benchWords[rng.IntN(len(benchWords))]
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// meetingNote returns the markdown of a realistic meeting note (about
// 1.5 KB): title, attendees, discussion, decisions, action items.
func meetingNote(rng *rand.Rand, i int) (title, template, text string) {
	template = benchTemplates[rng.IntN(len(benchTemplates))]
	title = fmt.Sprintf("%s %s #%d", strings.ToUpper(template[:1])+template[1:], benchWords[rng.IntN(len(benchWords))], i)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n## Attendees\n", title)
	for range 3 + rng.IntN(4) {
		fmt.Fprintf(&b, "- %s\n", benchPeople[rng.IntN(len(benchPeople))])
	}
	b.WriteString("\n## Notes\n")
	for range 4 + rng.IntN(6) {
		fmt.Fprintf(&b, "- %s\n", sentence(rng, 8+rng.IntN(12)))
	}
	b.WriteString("\n## Decisions\n")
	for range 1 + rng.IntN(3) {
		fmt.Fprintf(&b, "- %s\n", sentence(rng, 6+rng.IntN(6)))
	}
	b.WriteString("\n## Action items\n")
	for range 1 + rng.IntN(4) {
		fmt.Fprintf(&b, "- [ ] @%s %s due 2026-%02d-%02d\n", strings.ToLower(strings.Fields(benchPeople[rng.IntN(len(benchPeople))])[0]), sentence(rng, 5+rng.IntN(5)), 1+rng.IntN(12), 1+rng.IntN(28))
	}
	return title, template, b.String()
}

// buildIndex indexes n generated notes into dir in batches of 500.
func buildIndex(b *testing.B, dir string, n int) *search.Bleve {
	b.Helper()
	idx, err := search.OpenBleve(dir)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := day(1)
	var batch []search.Doc
	for i := range n {
		title, template, text := meetingNote(rng, i)
		d := scribe.Document{Note: scribe.Note{ID: scribe.NewNoteID(), Title: title, Template: template,
			CreatedAt: start.Add(time.Duration(i) * 6 * time.Hour), Revision: 1}, Text: text}
		batch = append(batch, search.NoteDoc(d))
		if len(batch) == 500 || i == n-1 {
			if err := idx.UpdateBatch(context.Background(), batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return idx
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkQuery10k measures queries against 10,000 generated meeting
// notes in an on-disk index, and reports the index's size per 1,000 notes.
func BenchmarkQuery10k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "search")
	start := time.Now()
	idx := buildIndex(b, dir, 10000)
	build := time.Since(start)
	idx.Close() // persist everything, then measure and reopen
	size := dirSize(dir)
	idx, err := search.OpenBleve(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	queries := []struct {
		name string
		q    search.Query
	}{
		{"word", search.Query{Text: "migration "}},
		{"two-words", search.Query{Text: "database latency "}},
		{"phrase", search.Query{Text: `"release build"`}},
		{"prefix", search.Query{Text: "kuber"}},
		{"accented", search.Query{Text: "resume "}},
		{"filters", search.Query{Text: "budget ", Template: "planning", Person: "ada", From: day(1), To: day(1).AddDate(1, 0, 0)}},
		{"list-newest", search.Query{}},
		{"list-person", search.Query{Person: "@ada"}},
		{"page-5", search.Query{Text: "deploy ", Offset: 80}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := idx.Search(context.Background(), q.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/10/1024, "KiB/1000notes")
			b.ReportMetric(build.Seconds(), "s-build-10k")
		})
	}
}

// BenchmarkIndexLag measures the time from an Append to the edit being
// findable, through the store's feed and the Indexer, on each store: each
// edit goes to a note not edited in the last second (no debounce wait).
// It reports the median and the 99th percentile over the run's edits
// (p50-ms, p99-ms) beside the mean (ns/op).
func BenchmarkIndexLag(b *testing.B) {
	b.Run("store=bolt", func(b *testing.B) {
		dir := b.TempDir()
		s := openBoltB(b, dir)
		benchIndexLag(b, s, s, filepath.Join(dir, "search"))
	})
	b.Run("store=redis", func(b *testing.B) {
		prefix := randomPrefix()
		b.Cleanup(func() { cleanRedis(b, prefix) })
		s, err := redis.New("redis://127.0.0.1:6379/0", redis.Options{Prefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Open(context.Background()); err != nil {
			b.Skipf("no Redis: %v", err)
		}
		b.Cleanup(func() { s.Close() })
		benchIndexLag(b, s, s, filepath.Join(b.TempDir(), "search"))
	})
}

func benchIndexLag(b *testing.B, s scribe.Store, feed scribe.NoteFeed, dir string) {
	idx, err := search.OpenBleve(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	x := search.NewIndexer(s, feed, idx, idx.Fresh(), search.IndexerOptions{})
	if err := x.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var notes []scribe.NoteID
	for i := range 1000 {
		title, template, text := meetingNote(rng, i)
		n, err := s.CreateNote(ctx, scribe.NewNote{Title: title, Template: template, Text: text})
		if err != nil {
			b.Fatal(err)
		}
		notes = append(notes, n.ID)
	}
	for _, id := range notes {
		if err := x.WaitFor(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // out of every note's debounce window
	var lags []time.Duration
	for b.Loop() {
		id := notes[len(lags)%len(notes)]
		d, err := s.LoadNote(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		op := storetest.EditOp(d.Text, storetest.Len(d.Text), 0, " lagword")
		start := time.Now()
		revs, err := s.Append(ctx, id, d.Revision, []scribe.Change{storetest.ChangeOf("bench", uint64(d.Revision)+1, op)})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.WaitFor(ctx, id, revs[0]); err != nil {
			b.Fatal(err)
		}
		lags = append(lags, time.Since(start))
	}
	if len(lags) > len(notes) {
		b.Logf("%d edits cycled over %d notes: some waited for their debounce", len(lags), len(notes))
	}
	slices.Sort(lags)
	ms := func(q float64) float64 {
		return float64(lags[int(q*float64(len(lags)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

func openBoltB(b *testing.B, dir string) *bolt.Store {
	s := bolt.New(dir, bolt.Options{})
	if err := s.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
