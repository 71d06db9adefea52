package scribe

import "context"

// Exporter writes a note into the team's git repository as a commit.
// The server calls it for POST /api/notes/{id}/export; cmd/scribe wires the
// real one (package export). It is safe for concurrent use: exports of
// different notes may run at once and both land.
type Exporter interface {
	// Export writes the note at its head revision. An unknown note gives
	// ENOTFOUND. When the file's content would not change, no commit is made
	// and the result has Unchanged set and the previous commit.
	Export(ctx context.Context, id NoteID, req ExportRequest) (ExportResult, error)
}

// ExportRequest says who exports.
type ExportRequest struct {
	Author string `json:"author"`          // the person's name; required
	Email  string `json:"email,omitempty"` // optional; else derived from the configured domain
	// URL is the note's read-only link, recorded in the file and the commit
	// message; never the edit link, which would let every reader of the
	// repository edit the note. Empty records no link.
	URL string `json:"-"`
	// Template is the body of the template the note was made from, with
	// its {{title}}, {{date}}, {{time}} and {{timezone}} placeholders. A
	// note still equal to it is refused (EINVALID). Empty: not known.
	Template string `json:"-"`
}

// ExportResult says where the note landed.
type ExportResult struct {
	Path      string `json:"path"`                // repository-relative, e.g. docs/meetings/2026-11-24-standup.md
	Commit    string `json:"commit"`              // the commit's hash
	Unchanged bool   `json:"unchanged"`           // nothing changed since the last export: no new commit
	Pushed    bool   `json:"pushed"`              // pushed to the configured remote
	PushError string `json:"pushError,omitempty"` // why the push failed; the local commit stays
}
