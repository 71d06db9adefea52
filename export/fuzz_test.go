package export

import (
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/markdown"
)

func FuzzExtract(f *testing.F) {
	for _, s := range []string{weeklyText, "", "# a\n## Attendees\n- @x (y)\n", "- [ ] @a due 2026-02-29 📅 2026-12-01\n", "> - [x] q\n", "Attendees:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		sum := Extract(md)
		lines := append([]string{sum.Title}, sum.Attendees...)
		lines = append(lines, sum.Decisions...)
		for _, a := range sum.ActionItems {
			lines = append(lines, a.Text, a.Owner)
			if a.Due != "" {
				if _, err := time.Parse(time.DateOnly, a.Due); err != nil {
					t.Fatalf("due %q is not a date", a.Due)
				}
			}
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\n\r") {
				t.Fatalf("extracted %q spans lines", l)
			}
		}
		// Whatever was extracted survives the front matter.
		out, err := renderFile(frontMatter{Title: sum.Title, Attendees: sum.Attendees, Decisions: sum.Decisions, ActionItems: sum.ActionItems, Key: "k"}, md)
		if err != nil {
			t.Fatal(err)
		}
		if fm, ok := readFrontMatter(out); !ok || fm.Key != "k" {
			t.Fatalf("front matter unreadable:\n%s", out)
		}
		if _, err := markdown.Page(sum.Title, md); err != nil {
			t.Fatal(err)
		}
	})
}
