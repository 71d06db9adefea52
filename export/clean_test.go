package export

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

func TestCleanBody(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty template items go", "# T\n\n## Attendees\n\n- \n\n## Agenda\n\n1. \n2)\n\n## Action items\n\n- [ ] \n* [x]\n", "# T\n\n## Attendees\n\n## Agenda\n\n## Action items\n"},
		{"filled items stay", "- Ada\n1. Budget\n- [ ] Ship @ana\n", "- Ada\n1. Budget\n- [ ] Ship @ana\n"},
		{"trailing whitespace goes", "Line one \t\nLine two\n", "Line one\nLine two\n"},
		{"hard break keeps its meaning", "First  \nsecond\n", "First\\\nsecond\n"},
		{"blank runs collapse", "a\n\n\n\nb\n\n\n", "a\n\nb\n"},
		{"code keeps empty items", "```\n- \n1. \n```\n- \n", "```\n-\n1.\n```\n"},
		{"CRLF", "a  \r\n- \r\nb\r\n", "a\\\nb\n"},
		{"nothing", " \n\n- \n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cleanBody(tt.in)
			if got != tt.want {
				t.Errorf("cleanBody(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, line := range strings.Split(got, "\n") {
				if !strings.HasPrefix(got, "```") && line != strings.TrimRight(line, " \t") {
					t.Errorf("line %q ends in whitespace", line)
				}
			}
		})
	}
}

// meetingTemplate is web/templates/meeting.md's body.
const meetingTemplate = "# {{title}}\n\n**Date:** {{date}} {{time}} ({{timezone}})\n\n## Attendees\n\n- \n\n## Agenda\n\n1. \n\n## Notes\n\n\n\n## Decisions\n\n- \n\n## Action items\n\n- [ ] \n"

func TestEmptyAndUntouched(t *testing.T) {
	filled := strings.NewReplacer("{{title}}", "Weekly sync", "{{date}}", "2026-11-24", "{{time}}", "10:00", "{{timezone}}", "Europe/Berlin").Replace(meetingTemplate)
	tests := []struct {
		name, text, tpl  string
		empty, untouched bool
	}{
		{"blank template", "# Standup\n", "# {{title}}\n", true, true},
		{"nothing at all", "", "", true, false},
		{"headings and empty items", "# A\n\n## B\n- \n---\n", "", true, false},
		{"meeting template as made", filled, meetingTemplate, false, true},
		{"meeting template, spaces trimmed", strings.ReplaceAll(filled, "- \n", "-\n"), meetingTemplate, false, true},
		{"one attendee added", strings.Replace(filled, "- \n", "- Ada\n", 1), meetingTemplate, false, false},
		{"a sentence", "# Standup\nAll good.\n", "# {{title}}\n", false, false},
		{"code only", "```\nx\n```\n", "", false, false},
	}
	for _, tt := range tests {
		if got := isEmptyNote(tt.text); got != tt.empty {
			t.Errorf("%s: isEmptyNote = %v, want %v", tt.name, got, tt.empty)
		}
		if got := matchesTemplate(tt.text, tt.tpl); got != tt.untouched {
			t.Errorf("%s: matchesTemplate = %v, want %v", tt.name, got, tt.untouched)
		}
	}
}

// TestNoJunk: empty and untouched notes are refused and commit nothing;
// what is exported has no unused template lines and no trailing spaces;
// the update message counts edits and names people; owners are not
// repeated.
func TestNoJunk(t *testing.T) {
	e := newExporter(t, Config{})
	repo := e.cfg.RepoPath
	ctx := context.Background()
	day := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	filled := strings.NewReplacer("{{title}}", "Weekly sync", "{{date}}", "2026-11-24", "{{time}}", "10:00", "{{timezone}}", "UTC").Replace(meetingTemplate)
	for _, s := range []struct{ text, tpl string }{{"# Blank\n\n", ""}, {filled, meetingTemplate}} {
		_, err := e.Write(ctx, Snapshot{ID: "AAAAAAAAAAAAAAAAAAAAAA", Text: s.text, CreatedAt: day}, scribe.ExportRequest{Author: "Ada", Template: s.tpl})
		var se *scribe.Error
		if scribe.ErrorCode(err) != scribe.EINVALID || !asError(err, &se) || !strings.Contains(se.Message, "Nothing to export") {
			t.Errorf("export of %q = %v, want EINVALID saying there is nothing to export", s.text, err)
		}
	}
	if _, err := gitErr(repo, "rev-parse", "--verify", "HEAD"); err == nil {
		t.Fatal("a refused export made a commit")
	}

	text := strings.Replace(filled, "- \n\n## Agenda", "- Ana\n- Bo\n\n## Agenda", 1)
	text = strings.Replace(text, "- [ ] \n", "- [ ] @ana fix the build due 2026-12-10\n- [ ] \n", 1)
	s := Snapshot{ID: "AAAAAAAAAAAAAAAAAAAAAA", Text: text, Revision: 40, CreatedAt: day,
		Edits: []Edit{{Author: "Ana", Last: 20}, {Author: "Bo", Last: 40}}}
	first, err := e.Write(ctx, s, scribe.ExportRequest{Author: "Ana", Template: meetingTemplate})
	if err != nil {
		t.Fatal(err)
	}
	file := runGit(t, repo, "show", "HEAD:"+first.Path) + "\n"
	for i, line := range strings.Split(file, "\n") {
		if line != strings.TrimRight(line, " \t") {
			t.Errorf("line %d of the file ends in whitespace: %q", i+1, line)
		}
		if l := strings.TrimSpace(line); l == "-" || l == "1." || l == "- [ ]" {
			t.Errorf("unused template line %d in the file: %q", i+1, line)
		}
	}
	msg := runGit(t, repo, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "- [ ] @ana fix the build (due 2026-12-10)") || strings.Contains(msg, "(@ana") {
		t.Errorf("the owner is repeated or missing:\n%s", msg)
	}
	if strings.Contains(msg, "revision") {
		t.Errorf("the message speaks of revisions:\n%s", msg)
	}

	s.Text += "\nMore notes.\n"
	s.Revision = 75
	s.Edits = append(s.Edits, Edit{Author: "Bo", Last: 50}, Edit{Author: "Ana", Last: 60}, Edit{Author: "Bo", Last: 75})
	if _, err := e.Write(ctx, s, scribe.ExportRequest{Author: "Bo"}); err != nil {
		t.Fatal(err)
	}
	msg = runGit(t, repo, "log", "-1", "--format=%B")
	want := "Updated from Scribe by Bo: 3 edits by Bo and Ana since the last export on " + time.Now().UTC().Format(time.DateOnly) + ".\n"
	if !strings.Contains(msg, want) {
		t.Errorf("update message lacks %q:\n%s", want, msg)
	}
	fsck(t, repo)
}

func asError(err error, target **scribe.Error) bool {
	e, ok := err.(*scribe.Error)
	*target = e
	return ok
}

// TestExportRefusesUntouchedNote: a note never edited is still its
// template, whatever the template was.
func TestExportRefusesUntouchedNote(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	note, err := st.CreateNote(ctx, scribe.NewNote{Title: "Standup", Text: "# Standup\n\n**Date:** 2026-11-24\n"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{RepoPath: t.TempDir() + "/repo"}, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Export(ctx, note.ID, scribe.ExportRequest{Author: "Ada"}); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("export of an untouched note: %v, want EINVALID", err)
	}
	typeAs(t, st, note.ID, "Ada", "We shipped.\n")
	if _, err := e.Export(ctx, note.ID, scribe.ExportRequest{Author: "Ada"}); err != nil {
		t.Errorf("export after an edit: %v", err)
	}
}

func TestEditsGroupChanges(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var x edits
	for i, c := range []struct {
		who string
		at  time.Duration
	}{
		{"Ana", 0}, {"Bo", time.Minute}, {"Ana", 2 * time.Minute}, // Ana's first edit goes on while Bo types
		{"Ana", 30 * time.Minute}, // a pause: a new edit
		{"Bo", 31 * time.Minute},
	} {
		x.add(scribe.Change{Revision: scribe.Revision(i + 1), Author: c.who, Time: t0.Add(c.at)})
	}
	want := []Edit{{"Ana", 3}, {"Bo", 2}, {"Ana", 4}, {"Bo", 5}}
	if fmt.Sprint(x.list) != fmt.Sprint(want) {
		t.Errorf("edits = %v, want %v", x.list, want)
	}
	if got := sinceLastExport(x.list, 2, t0); got != "3 edits by Ana and Bo since the last export on 2026-11-24" {
		t.Errorf("since = %q", got)
	}
	if got := sinceLastExport(x.list, 5, t0); got != "since the last export on 2026-11-24" {
		t.Errorf("since, no edits = %q", got)
	}
}

// TestDecisionLog: each export rewrites docs/meetings/README.md in its own
// commit: every meeting, newest first, linked, with its decisions.
func TestDecisionLog(t *testing.T) {
	e := newExporter(t, Config{})
	repo := e.cfg.RepoPath
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }
	mustWrite(t, e, Snapshot{ID: "AAAAAAAAAAAAAAAAAAAAAA", Text: "# Kick-off\n\n## Decisions\n- Use *Go*\n- Ship [early](javascript:x)\n", CreatedAt: day(10)}, "Ada")
	mustWrite(t, e, Snapshot{ID: "BBBBBBBBBBBBBBBBBBBBBB", Text: "# Retro: a_b [x]\nWent well.\n", CreatedAt: day(20)}, "Bo")
	res := mustWrite(t, e, Snapshot{ID: "CCCCCCCCCCCCCCCCCCCCCC", Text: "# Planning\n\nDecisions:\n- Freeze on Friday\n", CreatedAt: day(15)}, "Ana")
	if got := runGit(t, repo, "show", "--name-only", "--format=", "HEAD"); got != "docs/meetings/2026-11-15-planning.md\ndocs/meetings/README.md" {
		t.Errorf("the last export's commit changed:\n%s", got)
	}
	index := runGit(t, repo, "show", "HEAD:docs/meetings/README.md") + "\n"
	want := `# Meeting notes and decisions

Every meeting exported from Scribe, newest first, with the decisions it recorded.
Scribe rebuilds this file from the notes beside it on every export; edits to it are overwritten.

## 2026-11-20: [Retro: a\_b \[x\]](2026-11-20-retro-a-b-x.md)

No decisions recorded.

## 2026-11-15: [Planning](2026-11-15-planning.md)

- Freeze on Friday

## 2026-11-10: [Kick-off](2026-11-10-kick-off.md)

- Use Go
- Ship early
`
	if index != want {
		t.Errorf("decision log:\n%s\nwant\n%s", index, want)
	}
	// A re-export of an older meeting updates its entry in place.
	mustWrite(t, e, Snapshot{ID: "AAAAAAAAAAAAAAAAAAAAAA", Text: "# Kick-off\n\n## Decisions\n- Use Go 1.24\n", CreatedAt: day(10)}, "Ada")
	index = runGit(t, repo, "show", "HEAD:docs/meetings/README.md")
	if !strings.Contains(index, "- Use Go 1.24") || strings.Contains(index, "Ship early") || strings.Count(index, "\n## ") != 3 {
		t.Errorf("decision log after a re-export:\n%s", index)
	}
	if res.Path != "docs/meetings/2026-11-15-planning.md" {
		t.Errorf("path = %s", res.Path)
	}
	fsck(t, repo)
	if got := runGit(t, repo, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
}
