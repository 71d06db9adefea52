package history

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Context is how many unchanged lines a hunk shows around a change.
const Context = 3

// Diff is a line diff between the texts at two revisions.
type Diff struct {
	From  int64  `json:"from"`
	To    int64  `json:"to"`
	Hunks []Hunk `json:"hunks"`
	// Added and Removed count the lines added and removed.
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// Hunk is a run of changed lines with Context kept lines around them, as
// in a unified diff: lines FromLine.. of the old text (FromCount of them)
// became lines ToLine.. of the new (ToCount). Line numbers count from 1.
type Hunk struct {
	FromLine  int    `json:"fromLine"`
	FromCount int    `json:"fromCount"`
	ToLine    int    `json:"toLine"`
	ToCount   int    `json:"toCount"`
	Lines     []Line `json:"lines"`
}

// Line is one line of a hunk: Op is "keep", "add" or "remove"; Text has
// no line end.
type Line struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// LineDiff returns the line diff from a to b (revisions from and to).
func LineDiff(a, b string, from, to int64) Diff {
	la, lb := splitLines(a), splitLines(b)
	d := Diff{From: from, To: to, Hunks: []Hunk{}}
	m := difflib.NewMatcher(la, lb)
	for _, group := range m.GetGroupedOpCodes(Context) {
		first, last := group[0], group[len(group)-1]
		h := Hunk{FromLine: first.I1 + 1, FromCount: last.I2 - first.I1, ToLine: first.J1 + 1, ToCount: last.J2 - first.J1}
		for _, c := range group {
			switch c.Tag {
			case 'e':
				for _, l := range la[c.I1:c.I2] {
					h.Lines = append(h.Lines, Line{"keep", l})
				}
			case 'r', 'd', 'i':
				for _, l := range la[c.I1:c.I2] {
					h.Lines = append(h.Lines, Line{"remove", l})
					d.Removed++
				}
				for _, l := range lb[c.J1:c.J2] {
					h.Lines = append(h.Lines, Line{"add", l})
					d.Added++
				}
			}
		}
		d.Hunks = append(d.Hunks, h)
	}
	return d
}

// splitLines splits s into lines without their ends; "" has no lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Unified writes d as a unified diff (diff -u), the files named a and b.
func (d Diff) Unified(a, b string) string {
	var sb strings.Builder
	if len(d.Hunks) == 0 {
		return ""
	}
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", a, b)
	for _, h := range d.Hunks {
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", span(h.FromLine, h.FromCount), span(h.ToLine, h.ToCount))
		for _, l := range h.Lines {
			switch l.Op {
			case "keep":
				sb.WriteByte(' ')
			case "add":
				sb.WriteByte('+')
			default:
				sb.WriteByte('-')
			}
			sb.WriteString(l.Text)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// span is a hunk's range as diff -u writes it: an empty range names the
// line before it.
func span(line, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", line-1)
	case 1:
		return fmt.Sprintf("%d", line)
	}
	return fmt.Sprintf("%d,%d", line, count)
}
