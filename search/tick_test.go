package search_test

import (
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
)

func TestTick(t *testing.T) {
	t.Parallel()
	const note = "# Sync\n- [ ] @ana fix it\n> 1. [ ] @bob quoted\n- [x] done\n- [ ] @ana fix it\n"
	tests := []struct {
		name     string
		line     int
		source   string
		done     bool
		want     string
		wantLine int
		code     string
	}{
		{"ticks the nearest copy", 5, "- [ ] @ana fix it", true, "# Sync\n- [ ] @ana fix it\n> 1. [ ] @bob quoted\n- [x] done\n- [x] @ana fix it\n", 5, ""},
		{"found where it moved", 9, "> 1. [ ] @bob quoted", true, "# Sync\n- [ ] @ana fix it\n> 1. [x] @bob quoted\n- [x] done\n- [ ] @ana fix it\n", 3, ""},
		{"unticks", 1, "- [x] done", false, "# Sync\n- [ ] @ana fix it\n> 1. [ ] @bob quoted\n- [ ] done\n- [ ] @ana fix it\n", 4, ""},
		{"changed", 2, "- [ ] @ana fix that", true, "", 0, scribe.ECONFLICT},
		{"already ticked", 4, "- [ ] done", true, "", 0, scribe.ECONFLICT},
		{"not a task", 1, "# Sync", true, "", 0, scribe.EINVALID},
		{"already in that state", 4, "- [x] done", true, "", 0, scribe.EINVALID},
		{"two lines", 2, "- [ ] a\n- [ ] b", true, "", 0, scribe.EINVALID},
	}
	for _, tt := range tests {
		got, line, err := search.Tick(note, tt.line, tt.source, tt.done)
		if tt.code != "" {
			if scribe.ErrorCode(err) != tt.code {
				t.Errorf("%s: error %v, want %s", tt.name, err, tt.code)
			}
			continue
		}
		if err != nil || got != tt.want || line != tt.wantLine {
			t.Errorf("%s: got %q line %d, %v; want %q line %d", tt.name, got, line, err, tt.want, tt.wantLine)
		}
	}
}
