package search_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
)

func day(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) }

// corpus is a handful of meeting notes in several scripts.
var corpus = []search.Doc{
	{ID: "aaaaaaaaaaaaaaaaaaaaa1", Title: "Platform weekly sync", Template: "weekly", Series: "Platform Weekly", Date: day(2),
		Text: "# Platform weekly sync\n\n## Attendees\n- Ada\n- Bob\n\n## Decisions\n- Move the build to Bazel 🎉\n\n## Action items\n- [ ] @ada migrate the CI runners due 2026-03-20\n"},
	{ID: "aaaaaaaaaaaaaaaaaaaaa2", Title: "Café résumé planning", Template: "planning", Date: day(5),
		Text: "Notes about the café. Crème brûlée for the offsite. <script>alert(1)</script> & more"},
	{ID: "aaaaaaaaaaaaaaaaaaaaa3", Title: "会议记录", Template: "weekly", Series: "Platform Weekly", Date: day(9),
		Text: "Attendees: 王伟, 李娜\n\n今天的会议讨论了数据库迁移。"},
	{ID: "aaaaaaaaaaaaaaaaaaaaa4", Title: "اجتماع الفريق", Template: "retro", Date: day(12),
		Text: "ناقشنا خطة الإطلاق الجديدة. قرار: نؤجل الإطلاق"},
	{ID: "aaaaaaaaaaaaaaaaaaaaa5", Title: "Retro 🚀🔥", Template: "retro", Date: day(15),
		Text: "What went well 👍 the database migration; what did not: the build queue. 👎👎"},
}

func openIndex(t *testing.T, docs ...search.Doc) *search.Bleve {
	t.Helper()
	b, err := search.OpenBleve("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, d := range docs {
		if d.Revision == 0 {
			d.Revision = 1
		}
		if err := b.Update(context.Background(), fill(d)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// fill runs the extraction a note gets from NoteDoc.
func fill(d search.Doc) search.Doc {
	n := search.NoteDoc(scribe.Document{Note: scribe.Note{ID: d.ID, Title: d.Title, Template: d.Template, Series: d.Series, CreatedAt: d.Date, Revision: d.Revision}, Text: d.Text})
	return n
}

func ids(r search.Results) []scribe.NoteID {
	var out []scribe.NoteID
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	b := openIndex(t, corpus...)
	ctx := context.Background()
	tests := []struct {
		name string
		q    search.Query
		want []scribe.NoteID // in order; nil for none
		any  bool            // want in any order
	}{
		{name: "word", q: search.Query{Text: "bazel "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa1"}},
		{name: "accent folded query", q: search.Query{Text: "cafe "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa2"}},
		{name: "accented query", q: search.Query{Text: "brûlée "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa2"}},
		{name: "accents folded both ways", q: search.Query{Text: "creme brulee "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa2"}},
		{name: "CJK word", q: search.Query{Text: "迁移 "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3"}},
		{name: "CJK title", q: search.Query{Text: "会议 "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3"}},
		{name: "CJK single character prefix", q: search.Query{Text: "数"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3"}},
		{name: "Arabic", q: search.Query{Text: "الإطلاق "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa4"}},
		{name: "Arabic alef variant normalised", q: search.Query{Text: "الاطلاق "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa4"}},
		{name: "emoji alone matches nothing and breaks nothing", q: search.Query{Text: "🎉"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa5", "aaaaaaaaaaaaaaaaaaaaa4", "aaaaaaaaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaaaaaaaa1"}},
		{name: "emoji beside a word", q: search.Query{Text: "🚀 retro "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa5"}},
		{name: "prefix while typing", q: search.Query{Text: "migr"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaa5"}, any: true},
		{name: "no prefix after a space", q: search.Query{Text: "migr "}, want: nil},
		{name: "all words must match", q: search.Query{Text: "database build "}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa5"}},
		{name: "phrase", q: search.Query{Text: `"database migration"`}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa5"}},
		{name: "phrase in wrong order", q: search.Query{Text: `"migration database"`}, want: nil},
		{name: "template filter", q: search.Query{Template: "retro"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa5", "aaaaaaaaaaaaaaaaaaaaa4"}},
		{name: "series filter, case folded", q: search.Query{Series: "platform weekly"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaaaaaaaa1"}},
		{name: "series is one keyword, not words", q: search.Query{Series: "platform"}, want: nil},
		{name: "text and template", q: search.Query{Text: "database ", Template: "weekly"}, want: nil},
		{name: "person filter (attendee)", q: search.Query{Person: "bob"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa1"}},
		{name: "person filter (action owner)", q: search.Query{Person: "@Ada"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa1"}},
		{name: "person filter (CJK name)", q: search.Query{Person: "王伟"}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3"}},
		{name: "date range", q: search.Query{From: day(5), To: day(12)}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaaaaaaaa2"}},
		{name: "decision text", q: search.Query{Text: "bazel", Person: "ada", From: day(1)}, want: []scribe.NoteID{"aaaaaaaaaaaaaaaaaaaaa1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := b.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(res)
			if tt.any {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			if res.Total != uint64(len(tt.want)) {
				t.Errorf("total %d, want %d", res.Total, len(tt.want))
			}
		})
	}
}

func TestSearchRanking(t *testing.T) {
	b := openIndex(t,
		search.Doc{ID: "bbbbbbbbbbbbbbbbbbbbb1", Title: "Standup", Date: day(1), Text: "we talked about the roadmap briefly"},
		search.Doc{ID: "bbbbbbbbbbbbbbbbbbbbb2", Title: "Roadmap review", Date: day(2), Text: "the roadmap for Q3: roadmap items, roadmap risks"},
		search.Doc{ID: "bbbbbbbbbbbbbbbbbbbbb3", Title: "Lunch", Date: day(3), Text: "nothing relevant"},
	)
	res, err := b.Search(context.Background(), search.Query{Text: "roadmap "})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(res); !slices.Equal(got, []scribe.NoteID{"bbbbbbbbbbbbbbbbbbbbb2", "bbbbbbbbbbbbbbbbbbbbb1"}) {
		t.Fatalf("ranked %v, want the note titled Roadmap first", got)
	}
	if res.Hits[0].Score <= res.Hits[1].Score {
		t.Errorf("scores %v, %v not decreasing", res.Hits[0].Score, res.Hits[1].Score)
	}
}

func TestSearchSnippets(t *testing.T) {
	b := openIndex(t, corpus...)
	res, err := b.Search(context.Background(), search.Query{Text: "crème "})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || len(res.Hits[0].Snippets) == 0 {
		t.Fatalf("hits %+v, want one with snippets", res.Hits)
	}
	h := res.Hits[0]
	if h.Title != "Café résumé planning" || h.Template != "planning" || !h.Date.Equal(day(5)) {
		t.Errorf("result %+v has the wrong title, template or date", h)
	}
	s := strings.Join(h.Snippets, " … ")
	if !strings.Contains(s, "<mark>Crème</mark>") {
		t.Errorf("snippet %q does not mark the match", s)
	}
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;") || !strings.Contains(s, "&amp;") {
		t.Errorf("snippet %q does not escape the note's HTML", s)
	}
	// Decisions are searched and highlighted too.
	res, err = b.Search(context.Background(), search.Query{Text: "bazel"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || !strings.Contains(strings.Join(res.Hits[0].Snippets, " "), "<mark>Bazel</mark>") {
		t.Errorf("decision snippet: %+v", res.Hits)
	}
}

func TestSearchPaging(t *testing.T) {
	var docs []search.Doc
	for i := range 25 {
		docs = append(docs, search.Doc{ID: scribe.NewNoteID(), Title: "Sync", Date: day(1).Add(time.Duration(i) * time.Hour), Text: "quarterly planning"})
	}
	b := openIndex(t, docs...)
	var all []scribe.NoteID
	for off := 0; ; off += 10 {
		res, err := b.Search(context.Background(), search.Query{Text: "planning", Offset: off, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 25 {
			t.Fatalf("total %d, want 25", res.Total)
		}
		if len(res.Hits) == 0 {
			break
		}
		all = append(all, ids(res)...)
	}
	if len(all) != 25 {
		t.Fatalf("pages gave %d notes, want 25", len(all))
	}
	seen := map[scribe.NoteID]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("note %s on two pages", id)
		}
		seen[id] = true
	}
	for _, q := range []search.Query{{Offset: -1}, {Limit: -1}, {Offset: search.MaxOffset + 1}, {Text: strings.Repeat("a", search.MaxQueryLen+1)}, {Text: "\xff"}} {
		if _, err := b.Search(context.Background(), q); scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("Search(%.40v): %v, want EINVALID", q, err)
		}
	}
}

func TestDelete(t *testing.T) {
	b := openIndex(t, corpus...)
	ctx := context.Background()
	if err := b.Delete(ctx, corpus[0].ID); err != nil {
		t.Fatal(err)
	}
	res, err := b.Search(ctx, search.Query{Text: "bazel"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 0 {
		t.Fatalf("deleted note still found: %v", ids(res))
	}
	if err := b.Delete(ctx, corpus[0].ID); err != nil {
		t.Errorf("deleting an absent note: %v", err)
	}
}

// TestOpenBleveRebuild checks that an index directory is reused when its
// version stamp is current, and recreated empty (Fresh) when it is missing
// or stamped with another mapping version.
func TestOpenBleveRebuild(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "search")
	b, err := search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Fresh() {
		t.Error("a new directory is not Fresh")
	}
	if err := b.Update(ctx, fill(corpus[0])); err != nil {
		t.Fatal(err)
	}
	if err := b.SetCursor(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b, err = search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := b.DocCount(); b.Fresh() || n != 1 {
		t.Fatalf("reopened index: fresh %v with %d notes, want kept with 1", b.Fresh(), n)
	}
	if c, _ := b.Cursor(ctx); c != "c1" {
		t.Errorf("cursor %q after reopening, want c1", c)
	}
	b.Close()

	search.SetMappingVersionForTest(t, dir, "0")
	b, err = search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := b.DocCount(); !b.Fresh() || n != 0 {
		t.Fatalf("outdated index: fresh %v with %d notes, want recreated empty", b.Fresh(), n)
	}
	b.Close()

	if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err = search.OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Fresh() {
		t.Error("an unreadable index is not recreated")
	}
	b.Close()
}

// TestSearchPersonEditors: the person filter finds a note by the people
// who edited it (Note.Attendees), in every form the note list's person
// filter accepts, even when the text names nobody.
func TestSearchPersonEditors(t *testing.T) {
	b := openIndex(t)
	n := scribe.Document{Note: scribe.Note{ID: "aaaaaaaaaaaaaaaaaaaaa7", Title: "Sync", Revision: 2, Attendees: []scribe.Attendee{
		{Key: "p:mx", Name: "Ana Lima", Email: "ana.lima@example.com"}, {Key: "n:bob", Name: "Bob"}}}, Text: "no names here"}
	if err := b.Update(context.Background(), search.NoteDoc(n)); err != nil {
		t.Fatal(err)
	}
	for person, want := range map[string]bool{
		"Ana Lima": true, "ana lima": true, "lima": true, "@ana.lima": true, "ANA.LIMA@example.com": true, "@Bob": true,
		"carol": false, "example.com": false, "an": false,
	} {
		res, err := b.Search(context.Background(), search.Query{Person: person})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Hits) == 1; got != want {
			t.Errorf("person %q: found %v, want %v", person, ids(res), want)
		}
		// The note list's filter agrees.
		if got := (scribe.NoteQuery{Person: person}).Match(n.Note); got != want {
			t.Errorf("NoteQuery{Person: %q}.Match = %v, want %v", person, got, want)
		}
	}
}
