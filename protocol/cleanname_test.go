package protocol

import (
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// TestCleanNameUsesCleanText checks the hello name against the one cleaner's
// rules (scribe.CleanText, scribe.IsControl): format characters such as a
// bidi override are refused like control characters, whitespace runs
// collapse, and emoji sequences keep their joiners.
func TestCleanNameUsesCleanText(t *testing.T) {
	ok := map[string]string{
		"  Ada  ":               "Ada",
		"Ada \t  Lovelace":      "Ada Lovelace",
		"Ada\nLovelace":         "Ada Lovelace",
		"👩\u200d💻 Grace":        "👩\u200d💻 Grace",
		"":                      "Anonymous",
		strings.Repeat("é", 64): strings.Repeat("é", 64),
	}
	for in, want := range ok {
		if got, err := cleanName(in); err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"a\u0007b", "evil\u202etxt.exe", "zero\u200bwidth", "bom\ufeff", "nul\x00", "\xff", "bad\ufffd", strings.Repeat("é", 65)} {
		if got, err := cleanName(in); scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("cleanName(%q) = %q, %v; want EINVALID", in, got, err)
		}
	}
}
