package scribe

import (
	"context"
	"net/url"
	"strings"
)

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
	Path      string   `json:"path"`                // repository-relative, e.g. docs/meetings/2026-11-24-standup.md
	Commit    string   `json:"commit"`              // the commit's hash
	Unchanged bool     `json:"unchanged"`           // nothing changed since the last export: no new commit
	Pushed    bool     `json:"pushed"`              // pushed to the configured remote
	PushError string   `json:"pushError,omitempty"` // why the push failed; the local commit stays
	Revision  Revision `json:"revision,omitempty"`  // the note's revision that was exported
}

// ExportShareLabel labels the read-only link that exports record.
const ExportShareLabel = "export"

// ExportShare returns the note's export share: the read-only link that its
// exported file and commit message carry instead of the edit link. It is
// the oldest active share labelled ExportShareLabel, made by by when the
// note has none, so re-exports record the same link. Two first exports
// racing on different nodes may both create one; from then on the oldest
// is used. Revoking it makes the next export create a new one.
func ExportShare(ctx context.Context, st Store, id NoteID, by Person) (Share, error) {
	shares, err := st.ListShares(ctx, id)
	if err != nil {
		return Share{}, err
	}
	for _, sh := range shares {
		if sh.Label == ExportShareLabel {
			return sh, nil
		}
	}
	by.Via = ""
	return st.CreateShare(ctx, id, ShareMeta{Label: ExportShareLabel, By: by})
}

// ExportEvent tells those who follow the notes (a chat channel) that a note
// was exported in a new commit. It carries no edit id: URL is the note's
// read-only link ("" when the export records none).
type ExportEvent struct {
	Title     string
	Date      string // the meeting's date, YYYY-MM-DD
	By        string // the person who exported
	URL       string // the note's read-only link
	Path      string // the file in the repository
	Commit    string // the commit's hash (after any rebase)
	Pushed    bool
	Decisions []string
	// ActionItems are the note's action items, done or not.
	ActionItems []ExportActionItem
}

// ExportActionItem is an action item as an ExportEvent reports it.
type ExportActionItem struct {
	Text  string
	Owner string // without the "@"; "" if none
	Due   string // YYYY-MM-DD; "" if none
	Done  bool
}

// CheckCommitURL checks a link template for export commits
// (--export-commit-url): an absolute http(s) URL in which "{sha}" stands
// for the commit id. An empty template is valid (no links); anything else
// gives EINVALID.
func CheckCommitURL(template string) error {
	if template == "" {
		return nil
	}
	u, err := url.Parse(strings.ReplaceAll(template, "{sha}", "0"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(template, "{sha}") {
		return Errorf(EINVALID, "The commit URL %q must be an http(s) URL containing {sha}.", template)
	}
	return nil
}
