// Package search is the full-text index behind Scribe's search box and
// note list: titles, note text, and the decisions and action items that
// export extracts, ranked, with highlighted snippets, phrase queries,
// prefix matching while typing, filters by template, person and date, and
// text in any script (CJK, Arabic, accented Latin) in one note.
//
// Two parts:
//
//   - Index is what the server calls (Update, Delete, Search). Bleve
//     implements it on github.com/blevesearch/bleve/v2, kept in a directory
//     (the data dir for the embedded store) or in memory, and rebuilt when
//     the directory is missing or its mapping version is old.
//   - Indexer keeps a Backend (an Index that also remembers revisions and a
//     feed cursor) in step with the store: it follows the store's change
//     feed (scribe.NoteFeed) from any node, re-indexes a changed note at most
//     once per Debounce (so a typing burst costs about one update a
//     second, and an edit is findable within about Debounce), and
//     resynchronises from every note's metadata when it starts empty or
//     hears it lost events.
//
// An external engine (OpenSearch, Meilisearch, Postgres full text) replaces
// Bleve by implementing Backend; the Indexer and the server stay as they
// are (docs/operations.md).
package search

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/export"
)

// Doc is what is indexed of one note.
type Doc struct {
	ID       scribe.NoteID
	Revision scribe.Revision
	Title    string
	Template string
	Series   string
	// Date is the meeting's date: the note's creation time.
	Date time.Time
	Text string
	// Decisions and ActionItems are what export.Extract finds; People are
	// the attendees the text names, the action items' owners, and the
	// people who edited the note (Note.Attendees) under every form the
	// note list's person filter accepts: name, each word of it, email,
	// the email's local part (attendeeForms).
	Decisions   []string
	ActionItems []string
	People      []string
	// Tasks are the note's task-list items, for the Ledger.
	Tasks []Task
}

// ledger returns what the Ledger keeps of the note.
func (d Doc) ledger() NoteLedger {
	return NoteLedger{ID: d.ID, Title: d.Title, Date: d.Date, Tasks: d.Tasks, Decisions: d.Decisions}
}

// CarriedMarker starts the words with which a meeting series marks an
// open item of one meeting as carried over into the next, at the end of
// its line: "- [ ] @ana fix the build (carried over to [2026-12-11](/n/…))".
const CarriedMarker = "carried over to"

// carriedRe finds the marker in an item's text, to its end.
var carriedRe = regexp.MustCompile(`(?i)\s*\(?\s*` + CarriedMarker + `\b.*$`)

// NoteDoc returns the Doc of a note at its head revision, running the
// exporter's extraction (export.Extract) on its text. A note without a
// title gets its first level-1 heading's.
func NoteDoc(d scribe.Document) Doc {
	sum := export.Extract(d.Text)
	doc := Doc{
		ID:        d.ID,
		Revision:  d.Revision,
		Title:     d.Title,
		Template:  d.Template,
		Series:    d.Series,
		Date:      d.CreatedAt,
		Text:      d.Text,
		Decisions: sum.Decisions,
		People:    append([]string(nil), sum.Attendees...),
	}
	if doc.Title == "" {
		doc.Title = sum.Title
	}
	for _, a := range d.Attendees {
		doc.People = append(doc.People, attendeeForms(a)...)
	}
	var lines []string
	for _, a := range sum.ActionItems {
		doc.ActionItems = append(doc.ActionItems, a.Text)
		if a.Owner != "" {
			doc.People = append(doc.People, a.Owner)
		}
		if !a.Task {
			continue
		}
		if lines == nil {
			lines = strings.Split(d.Text, "\n")
		}
		t := Task{Line: a.Line, Text: a.Text, Owner: a.Owner, Due: a.Due, Done: a.Done}
		if a.Line >= 1 && a.Line <= len(lines) {
			t.Source = lines[a.Line-1]
		}
		if loc := carriedRe.FindStringIndex(t.Text); loc != nil {
			t.Carried, t.Text = true, strings.TrimSpace(t.Text[:loc[0]])
		}
		doc.Tasks = append(doc.Tasks, t)
	}
	return doc
}

// attendeeForms returns what the person filter may be given for a: the
// forms scribe.Attendee.MatchPerson accepts, which the keyword field
// matches whole, ignoring case and accents.
func attendeeForms(a scribe.Attendee) []string {
	forms := []string{a.Name}
	if words := strings.Fields(a.Name); len(words) > 1 {
		forms = append(forms, words...)
	}
	if a.Email != "" {
		local, _, _ := strings.Cut(a.Email, "@")
		forms = append(forms, a.Email, local)
	}
	return forms
}

// Query is one search.
type Query struct {
	// Text is what the person typed: words, "quoted phrases", and (unless
	// it ends with a space or a closing quote) a last word that matches as
	// a prefix. Empty Text matches every note, newest meeting first.
	Text string
	// Filters; zero values filter nothing. Template and Person match
	// exactly, ignoring case and accents; so does Series. From is
	// inclusive, To exclusive.
	Template string
	Series   string
	Person   string
	From, To time.Time
	// Paging: skip Offset results, return at most Limit (DefaultLimit when
	// zero, at most MaxLimit).
	Offset, Limit int
}

// Paging limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxQueryLen bounds Query.Text in bytes; longer is EINVALID.
	MaxQueryLen = 1000
	// MaxOffset bounds Query.Offset, so a request costs bounded work.
	MaxOffset = 10000
)

// Result is one note found.
type Result struct {
	ID       scribe.NoteID `json:"id"`
	Title    string        `json:"title"`
	Date     time.Time     `json:"date"`
	Template string        `json:"template,omitempty"`
	Series   string        `json:"series,omitempty"`
	// Snippets are fragments of the note around what matched, as HTML: the
	// note's text is escaped and the matches are wrapped in <mark></mark>.
	Snippets []string `json:"snippets,omitempty"`
	Score    float64  `json:"score"`
}

// Results is one page of results.
type Results struct {
	Total uint64   `json:"total"` // matching notes in all
	Hits  []Result `json:"hits"`
}

// Index is the search index the server calls. Implementations are safe for
// concurrent use. Errors: a Query out of bounds is EINVALID; context
// cancellation is returned as the context's error.
type Index interface {
	// Update adds or replaces the note's document; it is searchable when
	// Update returns.
	Update(ctx context.Context, doc Doc) error
	// Delete removes the note; deleting an absent note is not an error.
	Delete(ctx context.Context, id scribe.NoteID) error
	// Search runs q, best match first (newest meeting first for an empty
	// Text).
	Search(ctx context.Context, q Query) (Results, error)
}

// Backend is an Index that the Indexer can keep in step with the store:
// it remembers each note's indexed revision and the feed cursor up to which
// it is complete, durably where the index is durable.
type Backend interface {
	Index
	// UpdateBatch indexes docs and deletes ids in one step.
	UpdateBatch(ctx context.Context, docs []Doc, deletes []scribe.NoteID) error
	// Revision returns the note's indexed revision, and false if absent.
	Revision(ctx context.Context, id scribe.NoteID) (scribe.Revision, bool, error)
	// Revisions returns every indexed note's revision.
	Revisions(ctx context.Context) (map[scribe.NoteID]scribe.Revision, error)
	// Cursor and SetCursor keep the feed position up to which the index
	// holds every change; "" when the index is new.
	Cursor(ctx context.Context) (scribe.FeedCursor, error)
	SetCursor(ctx context.Context, c scribe.FeedCursor) error
	// EachLedger calls fn with the ledger of every indexed note that has
	// tasks or decisions, reading them in pages; fn's error ends the walk.
	EachLedger(ctx context.Context, fn func(NoteLedger) error) error
}
