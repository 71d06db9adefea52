package search

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/scribe-notes/scribe"
)

// Task is one task-list item of a note ("- [ ] @ana fix the build due
// 2026-12-10"), as export.Extract reads it, with the line it is on.
type Task struct {
	Line   int    `json:"line"`   // 1-based
	Source string `json:"source"` // the line as written in the note
	Text   string `json:"text"`   // without the box, the owner's trailing mention and the due date
	Owner  string `json:"owner,omitempty"`
	Due    string `json:"due,omitempty"` // YYYY-MM-DD
	Done   bool   `json:"done"`
	// Carried reports that the item was carried over into the next meeting
	// of its series (the line says "carried over to ..."): it is open in
	// that note now, and listed there only.
	Carried bool `json:"carried,omitempty"`
}

// NoteLedger is what the Ledger keeps of one note.
type NoteLedger struct {
	ID        scribe.NoteID
	Title     string
	Date      time.Time
	Tasks     []Task
	Decisions []string
}

// Ledger is every note's action items and decisions, in memory, for the
// questions asked across notes (GET /api/actions, GET /api/decisions). The
// Indexer keeps it: it puts each note it indexes (from the same change
// feed, debounced alike) and loads what the index stored at its last run
// when it opens, so no request and no start reads or parses every note.
// It is safe for concurrent use.
type Ledger struct {
	mu    sync.RWMutex
	notes map[scribe.NoteID]ledgerEntry
}

// ledgerEntry is a note's ledger with the folded forms queries compare,
// made once when it is put rather than per query.
type ledgerEntry struct {
	NoteLedger
	owners    []string // OwnerKey of each task's owner
	decisions []string // the title and each decision, folded
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger { return &Ledger{notes: make(map[scribe.NoteID]ledgerEntry)} }

// put replaces what the ledger has of each note; a note with neither
// tasks nor decisions is removed.
func (l *Ledger) put(notes ...NoteLedger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range notes {
		if len(n.Tasks) == 0 && len(n.Decisions) == 0 {
			delete(l.notes, n.ID)
			continue
		}
		e := ledgerEntry{NoteLedger: n}
		for _, t := range n.Tasks {
			e.owners = append(e.owners, OwnerKey(t.Owner))
		}
		title := foldText(n.Title)
		for _, d := range n.Decisions {
			e.decisions = append(e.decisions, title+"\n"+foldText(d))
		}
		l.notes[n.ID] = e
	}
}

// remove forgets notes.
func (l *Ledger) remove(ids ...scribe.NoteID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		delete(l.notes, id)
	}
}

// Note returns what the ledger has of one note, and false if nothing.
func (l *Ledger) Note(id scribe.NoteID) (NoteLedger, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.notes[id].NoteLedger, l.notes[id].ID != ""
}

// Action item states for ActionQuery.State.
const (
	StateOpen = "open" // not ticked and not carried over
	StateDone = "done" // ticked
)

// Ledger paging limits.
const (
	DefaultLedgerLimit = 100
	MaxLedgerLimit     = 500
)

// ActionQuery selects action items. Zero values select everything.
type ActionQuery struct {
	// Owners: items whose owner is one of these, compared ignoring case,
	// accents, dots, dashes and spaces ("Ana.Lima" is "ana lima"). An
	// owner "" in the list matches items with no owner.
	Owners []string
	// State is StateOpen, StateDone or "" (both, and carried items).
	State string
	// DueBefore (YYYY-MM-DD, exclusive) keeps items due before that day.
	DueBefore string
	// Today (YYYY-MM-DD) is what Overdue is measured against.
	Today string
	// Skip Offset items, return at most Limit (DefaultLedgerLimit when
	// zero, at most MaxLedgerLimit; Offset at most MaxOffset).
	Offset, Limit int
}

// ActionItem is one action item found: a task of a note.
type ActionItem struct {
	Note  scribe.NoteID `json:"note"`
	Title string        `json:"title"` // the note's title
	Date  time.Time     `json:"date"`  // the meeting's date
	Task
	// Overdue: open, and due before today.
	Overdue bool `json:"overdue"`

	ownerKey string
}

// ActionPage is one page of action items, grouped by owner (alphabetical,
// no owner last); within an owner overdue first, open before done or
// carried, then by due date (none last), newest meeting first, line.
type ActionPage struct {
	Total int          `json:"total"`
	Items []ActionItem `json:"items"`
}

// Actions answers q. Its cost is one pass over the ledger's items and a
// sort of those that match.
func (l *Ledger) Actions(q ActionQuery) (ActionPage, error) {
	limit, err := ledgerPaging(q.Offset, q.Limit)
	if err != nil {
		return ActionPage{}, err
	}
	owners := make(map[string]bool, len(q.Owners))
	for _, o := range q.Owners {
		owners[OwnerKey(o)] = true
	}
	var out []ActionItem
	l.mu.RLock()
	for _, n := range l.notes {
		for i, t := range n.Tasks {
			switch {
			case len(owners) > 0 && !owners[n.owners[i]]:
				continue
			case q.State == StateOpen && (t.Done || t.Carried):
				continue
			case q.State == StateDone && !t.Done:
				continue
			case q.DueBefore != "" && (t.Due == "" || t.Due >= q.DueBefore):
				continue
			}
			out = append(out, ActionItem{Note: n.ID, Title: n.Title, Date: n.Date, Task: t, ownerKey: n.owners[i],
				Overdue: !t.Done && !t.Carried && t.Due != "" && q.Today != "" && t.Due < q.Today})
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(out, compareActions)
	return ActionPage{Total: len(out), Items: page(out, q.Offset, limit)}, nil
}

func compareActions(a, b ActionItem) int {
	ka, kb := a.ownerKey, b.ownerKey
	if (ka == "") != (kb == "") {
		if ka == "" {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(ka, kb); c != 0 {
		return c
	}
	if a.Overdue != b.Overdue {
		if a.Overdue {
			return -1
		}
		return 1
	}
	if da, db := a.Done || a.Carried, b.Done || b.Carried; da != db {
		if da {
			return 1
		}
		return -1
	}
	if (a.Due == "") != (b.Due == "") {
		if a.Due == "" {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.Due, b.Due); c != 0 {
		return c
	}
	if c := b.Date.Compare(a.Date); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Note, b.Note); c != 0 {
		return c
	}
	return cmp.Compare(a.Line, b.Line)
}

// DecisionQuery selects decisions. Zero values select everything.
type DecisionQuery struct {
	// Text: every word must occur in the decision or the note's title,
	// ignoring case and accents. At most MaxQueryLen bytes.
	Text string
	// From (inclusive) and To (exclusive) bound the meeting's date.
	From, To time.Time
	// Paging as ActionQuery's.
	Offset, Limit int
}

// Decision is one decision found.
type Decision struct {
	Note  scribe.NoteID `json:"note"`
	Title string        `json:"title"`
	Date  time.Time     `json:"date"` // the meeting's date
	Text  string        `json:"text"`
}

// DecisionPage is one page of decisions, newest meeting first, in the
// note's order within a meeting.
type DecisionPage struct {
	Total     int        `json:"total"`
	Decisions []Decision `json:"decisions"`
}

// Decisions answers q, with the cost of one pass over the ledger's
// decisions.
func (l *Ledger) Decisions(q DecisionQuery) (DecisionPage, error) {
	limit, err := ledgerPaging(q.Offset, q.Limit)
	if err != nil {
		return DecisionPage{}, err
	}
	if len(q.Text) > MaxQueryLen || !utf8.ValidString(q.Text) {
		return DecisionPage{}, scribe.Errorf(scribe.EINVALID, "The query must be valid UTF-8 of at most %d bytes.", MaxQueryLen)
	}
	words := strings.Fields(foldText(q.Text))
	type found struct {
		Decision
		i int
	}
	var out []found
	l.mu.RLock()
	for _, n := range l.notes {
		if !q.From.IsZero() && n.Date.Before(q.From) || !q.To.IsZero() && !n.Date.Before(q.To) {
			continue
		}
		for i, d := range n.Decisions {
			if matchesAll(words, n.decisions[i]) {
				out = append(out, found{Decision{Note: n.ID, Title: n.Title, Date: n.Date, Text: d}, i})
			}
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b found) int {
		if c := b.Date.Compare(a.Date); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Note, b.Note); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	res := DecisionPage{Total: len(out), Decisions: []Decision{}}
	for _, f := range page(out, q.Offset, limit) {
		res.Decisions = append(res.Decisions, f.Decision)
	}
	return res, nil
}

func ledgerPaging(offset, limit int) (int, error) {
	if offset < 0 || offset > MaxOffset || limit < 0 {
		return 0, scribe.Errorf(scribe.EINVALID, "The offset must be 0 to %d and the limit not negative.", MaxOffset)
	}
	if limit == 0 {
		limit = DefaultLedgerLimit
	}
	return min(limit, MaxLedgerLimit), nil
}

// page returns s[offset:offset+limit], clipped, never nil.
func page[T any](s []T, offset, limit int) []T {
	if offset >= len(s) {
		return []T{}
	}
	return s[offset:min(len(s), offset+limit)]
}

func matchesAll(words []string, s string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// foldText lowers s and removes its accents, for matching.
func foldText(s string) string {
	d := norm.NFD.String(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, d)
}

// OwnerKey is the form in which owners are compared: folded, without dots,
// dashes, underscores and spaces, so "@Ana.Lima", "ana-lima" and the
// person "Ana Lima" agree.
func OwnerKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '-', '_', '@', ' ':
			return -1
		}
		return r
	}, foldText(strings.TrimSpace(s)))
}
