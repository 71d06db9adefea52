package scribe

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// HistoryStore reads a note's past: its text at any revision and the
// checkpoints people named (by hand, or by exporting). Every Store is a
// HistoryStore.
//
// It is safe for concurrent use; where the backend is shared (Redis) a
// checkpoint added on one node is seen by every node as soon as the call
// returns.
type HistoryStore interface {
	// TextAt returns the note's text at revision rev, 0 <= rev <= head (a
	// rev beyond the head gives EINVALID). Its cost is O(history snapshot +
	// at most HistoryEvery + 2K changes), whatever rev: besides the latest
	// snapshot, the store keeps a history snapshot at least every
	// HistoryEvery revisions, written inside the appends that write the
	// ordinary snapshots (no extra work per edit). A revision older than
	// the history the store kept (a note written before history snapshots
	// existed, whose revision-0 text was replaced) gives ENOTFOUND.
	TextAt(ctx context.Context, id NoteID, rev Revision) (string, error)

	// AddCheckpoint records a named checkpoint at c.Rev (0 <= c.Rev <=
	// head, else EINVALID; an invalid name or maker gives EINVALID, see
	// Checkpoint.Validate) and returns it with Time set (now, when zero).
	// Several checkpoints may name one revision.
	AddCheckpoint(ctx context.Context, id NoteID, c Checkpoint) (Checkpoint, error)

	// Checkpoints returns up to limit (1..MaxCheckpointPage) of the note's
	// named checkpoints with Rev < before, newest (highest revision) first;
	// before <= 0 means from the head.
	Checkpoints(ctx context.Context, id NoteID, before Revision, limit int) ([]Checkpoint, error)
}

// HistoryEvery is how many revisions apart, at most (plus one snapshot
// interval), the stores keep history snapshots: TextAt replays at most
// about HistoryEvery + 2K changes.
const HistoryEvery = 1000

// Checkpoint is a named point in a note's history: "exported as 1a2b3c4",
// "before the budget discussion".
type Checkpoint struct {
	Rev  Revision  `json:"rev"`
	Name string    `json:"name"`
	By   Person    `json:"by,omitzero"` // who named it; zero if unknown
	Time time.Time `json:"time"`
}

// Limits of checkpoints.
const (
	MaxCheckpointName = 200 // bytes
	MaxCheckpointPage = 1000
)

// Validate checks a checkpoint as Store.AddCheckpoint requires (the
// revision against the head is the store's to check).
func (c Checkpoint) Validate() error {
	if c.Rev < 0 {
		return Errorf(EINVALID, "A checkpoint's revision is at least 0.")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > MaxCheckpointName || !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, unicode.IsControl) {
		return Errorf(EINVALID, "A checkpoint's name has 1 to %d bytes of text, no control characters.", MaxCheckpointName)
	}
	if len(c.By.Name) > MaxTokenLabel || len(c.By.Email) > MaxEmail || !utf8.ValidString(c.By.Name) || !utf8.ValidString(c.By.Email) {
		return Errorf(EINVALID, "A checkpoint's maker has a name of at most %d bytes and an email of at most %d.", MaxTokenLabel, MaxEmail)
	}
	return nil
}
