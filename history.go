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
	// existed, whose revision-0 text was replaced) gives ENOTFOUND. A
	// revision inside a fold of compacted history gives a *FoldedError
	// (EGONE) naming the nearest revisions that can be read.
	TextAt(ctx context.Context, id NoteID, rev Revision) (string, error)

	// AddCheckpoint records a named checkpoint at c.Rev (0 <= c.Rev <=
	// head, else EINVALID; an invalid name or maker gives EINVALID, see
	// Checkpoint.Validate) and returns it with Time set (now, when zero).
	// A revision inside a fold of compacted history gives a *FoldedError.
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
	// Commit is the full hash of the export commit an "exported as"
	// checkpoint records; "" for every other checkpoint (and for export
	// checkpoints made before it was recorded: see ExportCommit).
	Commit string `json:"commit,omitempty"`
}

// exportPrefix begins the name of the checkpoint an export records.
const exportPrefix = "exported as "

// ExportCheckpoint is the checkpoint that records an export of the note
// at rev as commit (its full hash), made by by: "exported as <12 hex>".
func ExportCheckpoint(rev Revision, commit string, by Person) Checkpoint {
	return Checkpoint{Rev: rev, Name: exportPrefix + commit[:min(len(commit), 12)], By: by, Commit: commit}
}

// ExportCommit returns the commit an export checkpoint records: Commit,
// or, for one recorded before Commit was, the short hash in its name; ""
// when c does not record an export.
func (c Checkpoint) ExportCommit() string {
	if c.Commit != "" {
		return c.Commit
	}
	h, ok := strings.CutPrefix(c.Name, exportPrefix)
	if !ok || len(h) < 7 || len(h) > 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return ""
	}
	return h
}

// lastExportScan bounds how many of a note's newest checkpoints
// LastExport reads looking for an export: one page of the most a store
// returns at once.
const lastExportScan = MaxCheckpointPage

// LastExport returns the checkpoint of the note's latest export (the
// export checkpoint at the highest revision), and false when the note's
// lastExportScan newest checkpoints record none.
func LastExport(ctx context.Context, h HistoryStore, id NoteID) (Checkpoint, bool, error) {
	cps, err := h.Checkpoints(ctx, id, 0, lastExportScan)
	if err != nil {
		return Checkpoint{}, false, err
	}
	for _, c := range cps {
		if c.ExportCommit() != "" {
			return c, true, nil
		}
	}
	return Checkpoint{}, false, nil
}

// Limits of checkpoints.
const (
	maxCommitHash = 64 // hex digits: SHA-256 repositories

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
	if len(c.Commit) > maxCommitHash || strings.Trim(c.Commit, "0123456789abcdef") != "" {
		return Errorf(EINVALID, "A checkpoint's commit is a hash of at most %d lowercase hex digits.", maxCommitHash)
	}
	if len(c.By.Name) > MaxTokenLabel || len(c.By.Email) > MaxEmail || !utf8.ValidString(c.By.Name) || !utf8.ValidString(c.By.Email) {
		return Errorf(EINVALID, "A checkpoint's maker has a name of at most %d bytes and an email of at most %d.", MaxTokenLabel, MaxEmail)
	}
	return nil
}
