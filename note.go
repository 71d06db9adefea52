package scribe

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// NoteID identifies a note. It is also the secret that grants editing: anyone
// who knows it can edit, so it is 128 random bits and is never shown through a
// read-only link. Its text form is 22 characters of unpadded base64url.
type NoteID string

// Token is a read-only share token: 128 random bits like a NoteID, but
// unrelated to it, so a token reveals nothing about the note's id.
type Token string

// idLen is the length of the text form of 128 random bits in unpadded base64url.
const idLen = 22

// NewNoteID returns a new random note id.
func NewNoteID() NoteID { return NoteID(randomID()) }

// NewToken returns a new random share token.
func NewToken() Token { return Token(randomID()) }

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether id has the form of a note id. Stores and handlers check
// it before any lookup, so a hostile id never reaches a key or a file name.
func (id NoteID) Valid() bool { return URLSafe(string(id), idLen, idLen) }

// Valid reports whether t has the form of a share token.
func (t Token) Valid() bool { return URLSafe(string(t), idLen, idLen) }

// Session ids are chosen by clients and kept across reconnects; with a
// sequence number they identify each submitted edit (see Change).
const (
	MinSessionLen = 8
	MaxSessionLen = 64
)

// ValidSession reports whether s has the form of a session id:
// MinSessionLen to MaxSessionLen characters of base64url's alphabet.
func ValidSession(s string) bool { return URLSafe(s, MinSessionLen, MaxSessionLen) }

// APISessionPrefix begins the session of every edit made through the HTTP
// API ("api:" + its Idempotency-Key, or + a random id). A client's session
// (ValidSession) cannot contain ':', so no websocket client can claim an API
// caller's idempotency key, nor an API caller a client's session.
const APISessionPrefix = "api:"

// APISession returns the session an API edit with key (an Idempotency-Key
// or a random id) is committed under.
func APISession(key string) string { return APISessionPrefix + key }

// URLSafe reports whether s has min to max bytes, all from base64url's
// alphabet (A-Z, a-z, 0-9, '-', '_'): the form of every identifier Scribe
// takes from outside (note ids, tokens, session ids, template names), which
// is safe in a URL, a Redis key, a log line and a file name.
func URLSafe(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Revision counts the operations committed to a note. A new note is at
// revision 0 (its text is the template it was created from); the n-th
// committed operation produces revision n. Revisions form one gap-free
// sequence shared by every server node.
type Revision int64

// Note is a note's metadata.
type Note struct {
	ID       NoteID `json:"id"`
	Title    string `json:"title"`
	Template string `json:"template,omitempty"`
	// Series names the run of meetings the note belongs to ("Platform
	// weekly sync"); empty for a one-off. The note list and search filter
	// by it, and the next meeting of a series is created in it.
	Series    string    `json:"series,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"` // time of the last committed edit, or CreatedAt
	Revision  Revision  `json:"revision"`  // the head revision
	// GuestEdit is the note's "anyone with the link can edit" setting: when
	// set, a stranger holding the edit link edits as a guest; when not, the
	// edit link needs sign-in (docs/security.md).
	GuestEdit bool `json:"guestEdit,omitempty"`
	// Archived hides the note from the note list unless archived notes are
	// asked for (NoteQuery.Archived); search and its links still find it.
	Archived bool `json:"archived,omitempty"`
	// Attendees are the people who committed an edit to the note, in the
	// order of their first edit: at most MaxAttendees, kept by the store
	// with the append that brought each one (see Attendee).
	Attendees []Attendee `json:"attendees,omitempty"`
}

// Attendee is one person who edited a note, as the note list shows them.
type Attendee struct {
	// Key and Name are the person's AuthorOf: "p:" and the member's person
	// key, or "n:" and the lower-cased name of anyone else; the name they
	// first edited under.
	Key  string `json:"key"`
	Name string `json:"name"`
	// Email is the member's sign-in email, for the person filter
	// (NoteQuery.Person). It is never serialised: the note's JSON reaches
	// guests too (docs/security.md, "What others see of a member").
	Email string `json:"-"`
}

// MaxAttendees bounds a note's attendee list: once it holds this many
// people, later newcomers are not added (the note's history still names
// them). It bounds the metadata an append rewrites and a list page reads.
const MaxAttendees = 100

// AttendeeOf is the attendee who committed change c: its author (a
// restore counts as the person who restored, whatever its Credit says).
func AttendeeOf(c Change) Attendee {
	a := AuthorOf(c)
	return Attendee{Key: a.Key, Name: a.Name, Email: c.Email}
}

// SameAuthor reports whether changes a and b have the same AuthorOf (and
// so the same AttendeeOf) without computing it: a batch is mostly one
// person's, and a member's key costs a SHA-256.
func SameAuthor(a, b Change) bool {
	return a.Author == b.Author && a.Email == b.Email &&
		strings.HasPrefix(a.Session, APISessionPrefix) == strings.HasPrefix(b.Session, APISessionPrefix)
}

// MatchPerson reports whether a passes the person filter p: p, without a
// leading '@' and surrounding space, equals the attendee's name, one of
// the name's words, their email, or the email's part before the '@',
// ignoring case. An empty p matches everyone.
func (a Attendee) MatchPerson(p string) bool {
	p = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p), "@"))
	if p == "" {
		return true
	}
	if strings.EqualFold(a.Name, p) || a.Email != "" && strings.EqualFold(a.Email, p) {
		return true
	}
	if local, _, ok := strings.Cut(a.Email, "@"); ok && strings.EqualFold(local, p) {
		return true
	}
	return slices.ContainsFunc(strings.Fields(a.Name), func(w string) bool { return strings.EqualFold(w, p) })
}

// Document is a note's metadata with its text at Note.Revision.
type Document struct {
	Note
	Text string `json:"text"`
}

// NewNote describes a note to create.
type NewNote struct {
	Title     string
	Template  string    // the template's name, kept as metadata
	Series    string    // the series the note belongs to (MaxSeries bytes, see ValidSeries); may be empty
	Text      string    // the initial text (the filled-in template), at revision 0
	CreatedAt time.Time // zero means now
	GuestEdit bool      // the note's first "anyone with the link can edit" setting
}

// NoteUpdate changes a note's settings (Store.UpdateNote); nil fields are
// left as they are.
type NoteUpdate struct {
	Title     *string // the new title (valid UTF-8, at most MaxTitle bytes)
	GuestEdit *bool   // "anyone with the link can edit"
	Series    *string // the series ("" takes the note out of any; see ValidSeries)
	Archived  *bool   // archive (true) or unarchive (false)
}

// MaxTitle bounds a note's title, in bytes.
const MaxTitle = 200

// MaxSeries bounds a note's series name, in bytes.
const MaxSeries = 100

// ValidSeries reports whether s can be a note's series: at most MaxSeries
// bytes of UTF-8 text without control characters (the same rule as a
// title's). The empty series means none.
func ValidSeries(s string) bool { return validText(s, MaxSeries) }

// validText reports whether s is at most max bytes of UTF-8 text without
// control characters, as every short piece of note metadata must be.
func validText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// Validate checks a new note as Store.CreateNote requires: title, template
// and text must be valid UTF-8 and the series valid (ValidSeries), else
// EINVALID.
func (n NewNote) Validate() error {
	for what, str := range map[string]string{"title": n.Title, "template": n.Template, "text": n.Text} {
		if !utf8.ValidString(str) {
			return Errorf(EINVALID, "The note's %s is not valid UTF-8.", what)
		}
	}
	if !ValidSeries(n.Series) {
		return errSeries
	}
	return nil
}

var errSeries = Errorf(EINVALID, "A series name has at most %d bytes of text, no control characters.", MaxSeries)

// NoteQuery asks Store.QueryNotes for one page of the note list. The list
// is ordered by last edit, newest first (ties by id), the order the stores
// already index; paging is by cursor, so a note that is edited while
// someone pages moves to the top instead of shifting the pages after it,
// and every note present and not edited throughout is listed exactly once.
type NoteQuery struct {
	// Filters; zero values filter nothing. Template and Series match
	// exactly. From and To bound the meeting date (CreatedAt): From
	// inclusive, To exclusive.
	Template string
	Series   string
	From, To time.Time
	// Person keeps the notes one of whose attendees matches it
	// (Attendee.MatchPerson: a name, a first name, an email, "@ana"),
	// ignoring case.
	Person string
	// Archived lists the archived notes instead of the others.
	Archived bool
	// After is the Next of the page before; "" starts at the newest note.
	After NoteCursor
	// Limit is the most notes the page holds: 1 to MaxNotePage.
	Limit int
}

// NoteCursor is a position in the note list, opaque to callers, meaningful
// only to the store that made it; it stays valid across restarts.
type NoteCursor string

// NotePage is one page of the note list.
type NotePage struct {
	Notes []Note `json:"notes"`
	// Next continues the list after this page; "" when the list is done.
	// A page may hold fewer than Limit notes (even none) and still have a
	// Next: a store examines at most MaxNoteScan notes per page, so a
	// filter that matches few notes costs bounded work per request.
	Next NoteCursor `json:"next,omitempty"`
}

// Bounds of one QueryNotes call.
const (
	MaxNotePage = 100
	MaxNoteScan = 1000
)

// Validate checks a query as Store.QueryNotes requires (EINVALID).
func (q NoteQuery) Validate() error {
	switch {
	case q.Limit < 1 || q.Limit > MaxNotePage:
		return Errorf(EINVALID, "A page holds 1 to %d notes.", MaxNotePage)
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return Errorf(EINVALID, "The date range is empty: it must start before it ends.")
	case len(q.Template) > 64 || len(q.Series) > MaxSeries || len(q.Person) > MaxEmail || len(q.After) > 200:
		return Errorf(EINVALID, "A filter or cursor is too long.")
	case !utf8.ValidString(q.Person):
		return Errorf(EINVALID, "The person filter is not valid UTF-8.")
	}
	return nil
}

// Match reports whether n passes q's filters (not its cursor).
func (q NoteQuery) Match(n Note) bool {
	return n.Archived == q.Archived &&
		(q.Template == "" || n.Template == q.Template) &&
		(q.Series == "" || n.Series == q.Series) &&
		(q.From.IsZero() || !n.CreatedAt.Before(q.From)) &&
		(q.To.IsZero() || n.CreatedAt.Before(q.To)) &&
		(strings.TrimSpace(q.Person) == "" || slices.ContainsFunc(n.Attendees, func(a Attendee) bool { return a.MatchPerson(q.Person) }))
}

// Change is one committed operation in a note's log.
type Change struct {
	// Revision is the revision this change produced; it was based on
	// Revision-1, or, for a fold, on First-1.
	Revision Revision `json:"rev"`
	// First is set on a fold only (see Compactor): the first of the
	// revisions First..Revision that history compaction merged into this
	// one change, whose Op is their composition and whose Seq is the last
	// one's. Zero on every ordinary change.
	First Revision `json:"first,omitempty"`
	// Op is the operation in the ot package's JSON wire format (ot.js's
	// TextOperation: [5,"abc",-2,3]). The root package does not import ot.
	Op json.RawMessage `json:"op"`
	// Session and Seq identify the submission: the client's session id, kept
	// across reconnects, and its sequence number within that session. A
	// (Session, Seq) pair appears at most once in a note's log.
	Session string `json:"session"`
	Seq     uint64 `json:"seq"`
	// Author is the display name of the person who submitted it.
	Author string `json:"author,omitempty"`
	// Email is the author's email when it is known from sign-in (a member,
	// or a member's API token); empty for guests and in local mode. Export
	// names only these people in Co-authored-by: trailers. It is never sent
	// to clients.
	Email string `json:"email,omitempty"`
	// Credit, when set, says who wrote each character the change inserts,
	// in order (a restore re-inserts what others wrote): runs covering
	// exactly the UTF-16 units its Op inserts (ValidateCredit). Without it,
	// everything the change inserts is its Author's.
	Credit []CreditRun `json:"credit,omitempty"`
	// Time is when the change was committed.
	Time time.Time `json:"time"`
}

// Base is the revision c's Op applies to: First-1 for a fold, else
// Revision-1.
func (c Change) Base() Revision {
	if c.First > 0 {
		return c.First - 1
	}
	return c.Revision - 1
}

// Share is a read-only link to a note.
type Share struct {
	Token     Token     `json:"token"`
	NoteID    NoteID    `json:"-"` // never serialised: a share must not reveal the edit id
	CreatedAt time.Time `json:"createdAt"`
	ShareMeta
}

// ShareMeta is what a share records besides its note: an optional label
// ("for the board") and who made it.
type ShareMeta struct {
	Label string `json:"label,omitempty"` // at most MaxShareLabel bytes
	By    Person `json:"by,omitzero"`     // the member who made it; zero if unknown
}

// MaxShareLabel bounds a share's label, in bytes.
const MaxShareLabel = 100

// Validate checks a share's label and maker as Store.CreateShare requires.
func (m ShareMeta) Validate() error {
	if len(m.Label) > MaxShareLabel || !utf8.ValidString(m.Label) || strings.ContainsFunc(m.Label, unicode.IsControl) {
		return Errorf(EINVALID, "A link's label has at most %d bytes of text, no control characters.", MaxShareLabel)
	}
	if len(m.By.Name) > MaxTokenLabel || len(m.By.Email) > MaxEmail || !utf8.ValidString(m.By.Name) {
		return Errorf(EINVALID, "A link's maker has a name of at most %d bytes and an email of at most %d.", MaxTokenLabel, MaxEmail)
	}
	return nil
}

// Validate checks an update as Store.UpdateNote requires.
func (u NoteUpdate) Validate() error {
	if u.Title != nil && !validText(*u.Title, MaxTitle) {
		return Errorf(EINVALID, "A title has at most %d bytes of text, no control characters.", MaxTitle)
	}
	if u.Series != nil && !ValidSeries(*u.Series) {
		return errSeries
	}
	return nil
}
