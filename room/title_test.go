package room

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
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

// countUpdates is a real store that records the titles UpdateNote
// stored, and sends each on saved when one is set.
type countUpdates struct {
	scribe.Store
	mu     sync.Mutex
	titles []string
	saved  chan string
}

func (c *countUpdates) UpdateNote(ctx context.Context, id scribe.NoteID, u scribe.NoteUpdate) (scribe.Note, error) {
	c.mu.Lock()
	if u.Title != nil {
		c.titles = append(c.titles, *u.Title)
	}
	c.mu.Unlock()
	n, err := c.Store.UpdateNote(ctx, id, u)
	if c.saved != nil && u.Title != nil {
		select {
		case c.saved <- *u.Title:
		default:
		}
	}
	return n, err
}

func (c *countUpdates) stored() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.titles)
}

// TestHeadingTitleDebounced: 100 keystrokes in the heading, each its own
// commit, are 100 live title messages but no UpdateNote while the room's
// TitleSave interval (an hour here) has not passed; closing the room
// stores the final title, once.
func TestHeadingTitleDebounced(t *testing.T) {
	t.Parallel()
	st := &countUpdates{Store: openBolt(t)}
	h, err := New(Config{Store: st, Timing: Timing{TitleSave: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := createNote(t, st, "# Test\nbody")
	a := join(t, h, id, Info{Name: "Typist"})
	b := join(t, h, id, Info{Name: "Watcher"})
	want := "Test"
	for i := range 100 {
		c := string(rune('a' + i%26))
		want += c
		a.seat.Submit(uint64(i+1), scribe.Revision(i), op(t, 6+i, c, 5), nil, time.Now())
		a.waitFor(t, "ack", 0, isAck(uint64(i+1), int64(i+1)))
	}
	b.waitFor(t, "the final title", 0, func(m protocol.Msg) bool { return m.Type == "title" && m.Title == want })
	if got := st.stored(); len(got) != 0 {
		t.Fatalf("UpdateNote called %d times while typing, want none before TitleSave", len(got))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := st.stored(); len(got) != 1 || got[0] != want {
		t.Fatalf("titles stored: %q, want only the final %q", got, want)
	}
	n, err := st.GetNote(context.Background(), id)
	if err != nil || n.Title != want {
		t.Fatalf("stored title %q (%v), want %q", n.Title, err, want)
	}
}

// TestHeadingTitleSaved: a title that follows the heading reaches the
// store once TitleSave has passed, with the room still open.
func TestHeadingTitleSaved(t *testing.T) {
	t.Parallel()
	st := &countUpdates{Store: openBolt(t), saved: make(chan string, 1)}
	h := startHub(t, st, Config{Timing: Timing{TitleSave: 10 * time.Millisecond}})
	id := createNote(t, st, "# Test\n")
	a := join(t, h, id, Info{Name: "Typist"})
	a.seat.Submit(1, 0, op(t, 6, "ed", 1), nil, time.Now())
	a.waitFor(t, "ack", 0, isAck(1, 1))
	if got := <-st.saved; got != "Tested" {
		t.Fatalf("title stored: %q, want Tested", got)
	}
}
