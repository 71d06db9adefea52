package server

import (
	"testing"
	"time"
)

// TestDownloadNames checks that a download is named with the same slug as
// export's file (scribe.Slug): before, fileName kept only ASCII, so
// "Café Øresund" lost its letters and a Japanese title became "note".
func TestDownloadNames(t *testing.T) {
	day := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	cases := []struct{ title, name, disposition string }{
		{"Café Øresund", "2026-11-24-cafe-oresund.md", `attachment; filename="2026-11-24-cafe-oresund.md"`},
		{"日本語の会議", "2026-11-24-日本語の会議.md",
			`attachment; filename="2026-11-24-note.md"; filename*=UTF-8''2026-11-24-%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E4%BC%9A%E8%AD%B0.md`},
		{"Встреча team 2", "2026-11-24-встреча-team-2.md",
			`attachment; filename="2026-11-24-team-2.md"; filename*=UTF-8''2026-11-24-%D0%B2%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0-team-2.md`},
		{`a"b\c`, "2026-11-24-a-b-c.md", `attachment; filename="2026-11-24-a-b-c.md"`},
	}
	for _, tc := range cases {
		if got := fileName(tc.title, day, ".md"); got != tc.name {
			t.Errorf("fileName(%q) = %q, want %q", tc.title, got, tc.name)
		}
		if got := attachment(tc.title, day, ".md"); got != tc.disposition {
			t.Errorf("attachment(%q) = %q, want %q", tc.title, got, tc.disposition)
		}
	}
	if got := fileName("Standup", time.Time{}, ".html"); got != "standup.html" {
		t.Errorf("no creation date: %q", got)
	}
}
