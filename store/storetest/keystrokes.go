package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// Typed creates a note of about 1,000 characters and types n keystrokes
// into it, each its own change (one character inserted in the middle of
// the text, by a person with a 16-character session id and a 12-character
// name, as the browser sends them), appended in batches of 100 so that
// 100,000 of them take seconds. It is what docs/operations.md's "per
// thousand edits" figures measure.
func Typed(tb testing.TB, s scribe.Store, n int) scribe.NoteID {
	tb.Helper()
	return typed(tb, s, n, 100, func() {})
}

// TypedMinutes is Typed at a keystroke a second: the same note and
// keystrokes, appended 60 to a batch with clock moved a minute after each,
// so that each minute of typing is one batch. A store whose changes are
// stamped with clock then folds each minute into one change when it
// compacts (docs/operations.md "after compaction").
func TypedMinutes(tb testing.TB, s scribe.Store, n int, clock *Clock) scribe.NoteID {
	tb.Helper()
	return typed(tb, s, n, 60, func() { clock.Advance(time.Minute) })
}

// typed is Typed and TypedMinutes: n keystrokes, batch to an Append,
// after called once each batch is committed.
func typed(tb testing.TB, s scribe.Store, n, batch int, after func()) scribe.NoteID {
	tb.Helper()
	ctx := context.Background()
	text := strings.Repeat("Meeting notes, decisions and action items. ", 23)
	note, err := s.CreateNote(ctx, scribe.NewNote{Title: "Typed", Text: text})
	if err != nil {
		tb.Fatal(err)
	}
	const session = "s_typist01234567"
	rev := note.Revision
	for done := 0; done < n; {
		var cs []scribe.Change
		for i := 0; i < batch && done < n; i++ {
			pos := Len(text) / 2
			op := EditOp(text, pos, 0, "k")
			text = text[:pos] + "k" + text[pos:] // ASCII: bytes are UTF-16 units
			done++
			cs = append(cs, scribe.Change{Op: op, Session: session, Seq: uint64(done), Author: "Ada Lovelace"})
		}
		revs, err := s.Append(ctx, note.ID, rev, cs)
		if err != nil {
			tb.Fatal(err)
		}
		rev = revs[len(revs)-1]
		after()
	}
	return note.ID
}
