package room

import (
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

func TestHeading(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"# Weekly sync\n\nnotes", "Weekly sync"},
		{"intro\n\n  # Indented  title ##\n", "Indented title"},
		{"# C# notes\n", "C# notes"},
		{"## Agenda\n# Real\n", "Real"},
		{"#hashtag\n", ""},
		{"    # code\n", ""},
		{"```\n# in a fence\n```\n# After\n", "After"},
		{"# \n# Next\n", ""},
		{"#\tTab\ttitle\r\n", "Tab title"},
		{"# 会議メモ\n", "会議メモ"},
		{"no heading", ""},
		{"# " + strings.Repeat("é", 150), strings.Repeat("é", scribe.MaxTitle/2)},
	} {
		if got := Heading(tc.text); got != tc.want {
			t.Errorf("Heading(%.30q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestHeadingOf: only the beginning of a note is read, and a heading cut
// by that limit is not taken.
func TestHeadingOf(t *testing.T) {
	big := strings.Repeat("x\n", headScan) + "# Late\n"
	doc, _ := ot.NewDocument(big)
	if got := headingOf(doc); got != "" {
		t.Errorf("a heading past headScan: %q", got)
	}
	doc, _ = ot.NewDocument("# Early\n" + big)
	if got := headingOf(doc); got != "Early" {
		t.Errorf("got %q", got)
	}
	doc, _ = ot.NewDocument(strings.Repeat("y", headScan-4) + "\n# Cut off here\n")
	if got := headingOf(doc); got != "" {
		t.Errorf("a heading cut by headScan: %q", got)
	}
	if touchesHead(mustOp(t, headScan+1, "z")) || !touchesHead(mustOp(t, 3, "z", headScan)) {
		t.Error("touchesHead")
	}
}

func mustOp(t *testing.T, items ...any) ot.Operation {
	t.Helper()
	op, err := ot.New(items...)
	if err != nil {
		t.Fatal(err)
	}
	return op
}
