package search

import (
	"regexp"
	"strings"

	"github.com/scribe-notes/scribe"
)

// taskBoxRe matches a task-list item's line up to its box: indentation,
// block-quote markers, the list marker, "[", and the box's state.
var taskBoxRe = regexp.MustCompile(`^([ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[)([ xX])\]`)

// TaskState reports whether line is a task-list item, and whether its box
// is ticked.
func TaskState(line string) (task, done bool) {
	m := taskBoxRe.FindStringSubmatch(line)
	if m == nil {
		return false, false
	}
	return true, m[2] != " "
}

// SetTaskState returns line with its box ticked (done) or not; line must
// be a task-list item.
func SetTaskState(line string, done bool) string {
	m := taskBoxRe.FindStringSubmatchIndex(line)
	if m == nil {
		return line
	}
	box := " "
	if done {
		box = "x"
	}
	return line[:m[4]] + box + line[m[5]:]
}

// Tick ticks (done) or unticks the task-list item whose line was source
// when it was listed, near line (1-based), in text, and returns the new
// text and the line it is on now. The item is found by its text, not its
// offset: of the lines equal to source, the one nearest to line, so an
// item moved by other edits is still found. An item no longer there as it
// was (edited, removed, or already in that state) is ECONFLICT; a source
// that is not a task-list item in the other state is EINVALID.
func Tick(text string, line int, source string, done bool) (string, int, error) {
	task, was := TaskState(source)
	if !task || strings.ContainsAny(source, "\r\n") {
		return "", 0, scribe.Errorf(scribe.EINVALID, "That line is not an action item (\"- [ ] ...\").")
	}
	if was == done {
		if done {
			return "", 0, scribe.Errorf(scribe.EINVALID, "That action item is already ticked.")
		}
		return "", 0, scribe.Errorf(scribe.EINVALID, "That action item is not ticked.")
	}
	lines := strings.Split(text, "\n")
	at, now := -1, -1
	target := SetTaskState(source, done)
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		switch {
		case l == source && (at < 0 || distance(i+1, line) < distance(at+1, line)):
			at = i
		case l == target:
			now = i
		}
	}
	switch {
	case at >= 0:
	case now >= 0 && done:
		return "", 0, scribe.Errorf(scribe.ECONFLICT, "Someone has ticked this action item already.")
	case now >= 0:
		return "", 0, scribe.Errorf(scribe.ECONFLICT, "Someone has unticked this action item already.")
	default:
		return "", 0, scribe.Errorf(scribe.ECONFLICT, "This action item was changed or removed in its note since it was listed; reload to see it as it is now.")
	}
	lines[at] = SetTaskState(lines[at], done)
	return strings.Join(lines, "\n"), at + 1, nil
}

func distance(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
