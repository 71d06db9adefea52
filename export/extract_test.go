package export

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want Summary
	}{
		{
			name: "empty",
			md:   "",
			want: Summary{},
		},
		{
			name: "title is the first level-1 heading",
			md:   "## Agenda\n\n# Weekly *sync*\n\n# Second title\n",
			want: Summary{Title: "Weekly sync"},
		},
		{
			name: "setext title with inline code and link",
			md:   "Release `v2` [planning](https://example.com)\n===\n",
			want: Summary{Title: "Release v2 planning"},
		},
		{
			name: "no level-1 heading gives no title",
			md:   "## Only a subheading\n",
			want: Summary{},
		},
		{
			name: "attendees heading with list, at any level and case",
			md:   "# Standup\n\n### ATTENDEES\n\n- Ada Lovelace\n- @bob\n- Carol (facilitator)\n- ada lovelace\n\n## Notes\n\n- not a person\n",
			want: Summary{Title: "Standup", Attendees: []string{"Ada Lovelace", "bob", "Carol"}},
		},
		{
			name: "attendees heading with emoji and colon",
			md:   "## 👥 Participants:\n\n- Ada\n- Bob\n",
			want: Summary{Attendees: []string{"Ada", "Bob"}},
		},
		{
			name: "attendees label paragraph followed by list",
			md:   "Attendees:\n\n- Ada\n- Bob\n\nThe label covers one block:\n\n- Not an attendee\n",
			want: Summary{Attendees: []string{"Ada", "Bob"}},
		},
		{
			name: "attendees inline",
			md:   "**Attendees:** Ada, Bob and Carol; Dan & Eve\n",
			want: Summary{Attendees: []string{"Ada", "Bob", "Carol", "Dan", "Eve"}},
		},
		{
			name: "attendees paragraph under heading",
			md:   "## Attendees\nAda, Bob\n",
			want: Summary{Attendees: []string{"Ada", "Bob"}},
		},
		{
			name: "nested attendee groups use the leaves",
			md:   "## Attendees\n\n- Team A\n  - Ada\n  - Bob\n- Carol\n",
			want: Summary{Attendees: []string{"Ada", "Bob", "Carol"}},
		},
		{
			name: "subheading stays in the section, same level ends it",
			md:   "## Decisions\n\n- One\n\n### Details\n\n- Two\n\n## Other\n\n- Three\n",
			want: Summary{Decisions: []string{"One", "Two"}},
		},
		{
			name: "decisions with nested items and paragraphs",
			md:   "# Planning\n\n## Decisions\n\nWe ship on **Friday**.\n\n1. Use Postgres\n   - for the queue too\n2. ~~Drop~~ Keep the cache\n",
			want: Summary{Title: "Planning", Decisions: []string{"We ship on Friday.", "Use Postgres", "for the queue too", "Keep the cache"}},
		},
		{
			name: "decisions label",
			md:   "Decisions:\n- A\n- B\n",
			want: Summary{Decisions: []string{"A", "B"}},
		},
		{
			name: "task items anywhere, with owners and due dates",
			md: "# Sync\n\n## Notes\n\n- [ ] Write release notes @bob due 2026-12-01\n- [x] Book the room @carol\n" +
				"- [ ] Ask @dan about the budget by 2026-11-30\n- [ ] Fix CI 📅 2026-12-24\n- [ ] Update docs (due: 2027-01-05) @eve\n" +
				"- plain item is not an action\n\n> - [ ] quoted task @fay\n",
			want: Summary{Title: "Sync", ActionItems: []ActionItem{
				{Text: "Write release notes", Owner: "bob", Due: "2026-12-01", Task: true, Line: 5},
				{Text: "Book the room", Owner: "carol", Done: true, Task: true, Line: 6},
				{Text: "Ask @dan about the budget", Owner: "dan", Due: "2026-11-30", Task: true, Line: 7},
				{Text: "Fix CI", Due: "2026-12-24", Task: true, Line: 8},
				{Text: "Update docs", Owner: "eve", Due: "2027-01-05", Task: true, Line: 9},
				{Text: "quoted task", Owner: "fay", Task: true, Line: 12},
			}},
		},
		{
			name: "nested task items",
			md:   "- [ ] Parent @ada\n  - [x] Child\n  - not a task\n",
			want: Summary{ActionItems: []ActionItem{{Text: "Parent", Owner: "ada", Task: true, Line: 1}, {Text: "Child", Done: true, Task: true, Line: 2}}},
		},
		{
			name: "plain items under action items heading",
			md:   "## Action items\n\n- Send minutes @ada\n- [x] Done thing\n",
			want: Summary{ActionItems: []ActionItem{{Text: "Send minutes", Owner: "ada", Line: 3}, {Text: "Done thing", Done: true, Task: true, Line: 4}}},
		},
		{
			name: "invalid due date stays in the text, email is no owner",
			md:   "- [ ] Mail ada@example.com due 2026-13-45\n",
			want: Summary{ActionItems: []ActionItem{{Text: "Mail ada@example.com due 2026-13-45", Task: true, Line: 1}}},
		},
		{
			name: "only an owner keeps the mention as text",
			md:   "- [ ] @ada\n",
			want: Summary{ActionItems: []ActionItem{{Text: "@ada", Owner: "ada", Task: true, Line: 1}}},
		},
		{
			name: "raw HTML is not text",
			md:   "# Hi <script>alert(1)</script>there\n",
			want: Summary{Title: "Hi alert(1)there"},
		},
		{
			name: "tables are parsed, task items in them are not list items",
			md:   "| a | b |\n|---|---|\n| [ ] x | y |\n",
			want: Summary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.md)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Extract(%q)\n got  %#v\n want %#v", tt.md, got, tt.want)
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	tests := []struct {
		in   string
		want ActionItem
	}{
		{"Write notes", ActionItem{Text: "Write notes"}},
		{"Write notes @bob", ActionItem{Text: "Write notes", Owner: "bob"}},
		{"Write notes — @bob, @carol", ActionItem{Text: "Write notes", Owner: "bob"}},
		{"Write notes due on 2026-12-01", ActionItem{Text: "Write notes", Due: "2026-12-01"}},
		{"Write notes, DUE 2026-12-01, @bob.", ActionItem{Text: "Write notes", Owner: "bob", Due: "2026-12-01"}},
		{"Write notes (@bob) by 2026-02-28", ActionItem{Text: "Write notes", Owner: "bob", Due: "2026-02-28"}},
		{"Write notes by 2026-02-30", ActionItem{Text: "Write notes by 2026-02-30"}},
		{"Pay @josé-maría 📅 2026-12-01", ActionItem{Text: "Pay", Owner: "josé-maría", Due: "2026-12-01"}},
	}
	for _, tt := range tests {
		if got := parseAction(tt.in); got != tt.want {
			t.Errorf("parseAction(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestExtractBounded: a note past markdown's limits (issue 12's 60,000
// unclosed links, 27 s to parse before) is not parsed at all; its summary
// is empty and export falls back to the note's own title.
func TestExtractBounded(t *testing.T) {
	src := "# Title\n\n## Decisions\n\n- ship it\n\n" + strings.Repeat("[a](", 60_000)
	if sum := Extract(src); sum.Title != "" || len(sum.Decisions) != 0 {
		t.Fatalf("Extract of a note past the limits = %+v, want an empty summary", sum)
	}
	if sum := Extract("# Title\n\n## Decisions\n\n- ship it\n"); sum.Title != "Title" || len(sum.Decisions) != 1 {
		t.Fatalf("Extract of a small note = %+v", sum)
	}
}
