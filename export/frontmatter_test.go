package export

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestFrontMatterHostileValues checks that any string survives a round trip
// through the front matter and cannot add keys or end the block early.
func TestFrontMatterHostileValues(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{
		`plain`,
		`"quoted" 'single' \backslash`,
		"key: value\nrevision: 999\nscribe_note: \"forged\"",
		"---\ntitle: forged\n---",
		"...",
		"#not a comment",
		"- a list?",
		"[flow, list]",
		"{flow: map}",
		"&anchor *alias !tag",
		"yes", "no", "null", "~", "0x1F", "1e3", "2026-11-24",
		"tab\there\r\nCRLF\x00nul\x1b[31mescape\u2028line\u202eoverride",
		"emoji 🎉👩‍👩‍👧 and ümlauts",
		"   leading and trailing spaces   ",
		strings.Repeat("long title ", 1000),
		"\xff invalid utf-8",
		"",
	}
	for _, s := range hostile {
		fm := frontMatter{
			Title:       s,
			Date:        time.Date(2026, 11, 24, 10, 30, 0, 0, berlin),
			Attendees:   []string{s, "Ada"},
			Decisions:   []string{s},
			ActionItems: []ActionItem{{Text: s, Owner: s, Due: "2026-12-01"}},
			URL:         s,
			Revision:    42,
			Key:         noteKey("AAAAAAAAAAAAAAAAAAAAAA"),
		}
		out, err := renderFile(fm, "---\nbody: with its own front matter\n---\n# Body")
		if err != nil {
			t.Fatalf("renderFile(%q): %v", s, err)
		}
		block, ok := splitFrontMatter(out)
		if !ok {
			t.Fatalf("no front matter in %q", out)
		}
		var got struct {
			Title       string         `yaml:"title"`
			Date        time.Time      `yaml:"date"`
			Timezone    string         `yaml:"timezone"`
			Attendees   []string       `yaml:"attendees"`
			Decisions   []string       `yaml:"decisions"`
			ActionItems []ActionItem   `yaml:"action_items"`
			URL         string         `yaml:"url"`
			Revision    int64          `yaml:"revision"`
			Key         string         `yaml:"scribe_note"`
			Rest        map[string]any `yaml:",inline"`
		}
		if err := yaml.Unmarshal(block, &got); err != nil {
			t.Fatalf("front matter for %q is not valid YAML: %v\n%s", s, err, block)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got.Title != want || got.Attendees[0] != want || got.Decisions[0] != want ||
			got.ActionItems[0].Text != want || got.ActionItems[0].Owner != want {
			t.Errorf("round trip of %q changed it: %+v", s, got)
		}
		if s != "" && got.URL != want {
			t.Errorf("url %q came back as %q", s, got.URL)
		}
		if got.Revision != 42 || got.Key != fm.Key || len(got.Rest) != 0 {
			t.Errorf("hostile %q changed other keys: revision=%d key=%q extra=%v", s, got.Revision, got.Key, got.Rest)
		}
		if !got.Date.Equal(fm.Date) || got.Date.Format(time.RFC3339) != "2026-11-24T10:30:00+01:00" || got.Timezone != "Europe/Berlin" {
			t.Errorf("date = %v (%s), timezone %q", got.Date, got.Date.Format(time.RFC3339), got.Timezone)
		}
		if stored, ok := readFrontMatter(out); !ok || stored.Key != fm.Key || stored.Revision != 42 {
			t.Errorf("readFrontMatter = %+v, %v", stored, ok)
		}
	}
}

func TestReadFrontMatterRejects(t *testing.T) {
	for _, content := range []string{
		"",
		"# no front matter\n",
		"---\ntitle: x\n---\n",               // not written by export
		"---\nscribe_note: x\n",              // not closed
		"---\nscribe_note: [unclosed\n---\n", // not YAML
		"---\r\nscribe_note: x\r\n---\r\n",   // not our line endings
	} {
		if fm, ok := readFrontMatter([]byte(content)); ok {
			t.Errorf("readFrontMatter(%q) = %+v, want not ok", content, fm)
		}
	}
}
