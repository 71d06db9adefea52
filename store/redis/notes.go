package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// changeBody is the part of a log entry Go encodes; append.lua prepends the
// revision ("r") and the commit time ("t", unix ns) to make a storedChange.
// "o" must stay the first field: the script splices after the opening brace.
type changeBody struct {
	Op      json.RawMessage    `json:"o"`
	Session string             `json:"s"`
	Seq     uint64             `json:"q"`
	Author  string             `json:"a,omitempty"`
	Email   string             `json:"e,omitempty"`
	Credit  []scribe.CreditRun `json:"c,omitempty"`
}

// storedChange is one element of a note's log, as stored and as published,
// or of its compacted list (compact.go): a fold has First, its first
// revision, right after Rev ("r" and "f" lead the JSON: lua/cold.lua reads
// them there).
type storedChange struct {
	Rev     int64              `json:"r"`
	First   int64              `json:"f,omitempty"`
	Time    int64              `json:"t"`
	Op      json.RawMessage    `json:"o"`
	Session string             `json:"s"`
	Seq     uint64             `json:"q"`
	Author  string             `json:"a,omitempty"`
	Email   string             `json:"e,omitempty"`
	Credit  []scribe.CreditRun `json:"c,omitempty"`
}

func decodeChange(raw string) (scribe.Change, error) {
	sc, ok := decodeEntryFast(raw)
	if !ok {
		sc = storedChange{}
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			return scribe.Change{}, err
		}
	}
	if sc.Rev <= 0 || len(sc.Op) == 0 {
		return scribe.Change{}, errors.New("entry without revision or operation")
	}
	if sc.First < 0 || sc.First >= sc.Rev && sc.First != 0 {
		return scribe.Change{}, errors.New("a fold that ends before it starts")
	}
	return scribe.Change{
		Revision: scribe.Revision(sc.Rev),
		First:    scribe.Revision(sc.First),
		Op:       sc.Op,
		Session:  sc.Session,
		Seq:      sc.Seq,
		Author:   sc.Author,
		Email:    sc.Email,
		Credit:   sc.Credit,
		Time:     time.Unix(0, sc.Time).UTC(),
	}, nil
}

// decodeChain decodes history entries (compacted ones, then log elements)
// that must take the text from revision from on, each based on the one
// before: their revisions are from+1, ... where nothing was folded.
func decodeChain(id scribe.NoteID, entries []any, from scribe.Revision) ([]scribe.Change, error) {
	out := make([]scribe.Change, 0, len(entries))
	prev := from
	for _, e := range entries {
		raw, ok := e.(string)
		if !ok {
			return nil, corrupt("log", id, fmt.Errorf("the entry after revision %d is not a string", prev))
		}
		c, err := decodeChange(raw)
		if err != nil {
			return nil, corrupt("log", id, fmt.Errorf("the entry after revision %d: %v", prev, err))
		}
		if c.Base() != prev {
			return nil, corrupt("log", id, fmt.Errorf("the entry after revision %d holds revisions %d to %d", prev, c.Base()+1, c.Revision))
		}
		prev = c.Revision
		out = append(out, c)
	}
	return out, nil
}

// chainTo decodes entries as decodeChain does and checks that they end at
// revision to.
func chainTo(id scribe.NoteID, entries []any, from, to scribe.Revision) ([]scribe.Change, error) {
	cs, err := decodeChain(id, entries, from)
	if err != nil {
		return nil, err
	}
	if end := chainEnd(cs, from); end != to {
		return nil, corrupt("log", id, fmt.Errorf("the changes after revision %d end at %d, want %d", from, end, to))
	}
	return cs, nil
}

// chainEnd is the revision a chain of changes from from ends at.
func chainEnd(cs []scribe.Change, from scribe.Revision) scribe.Revision {
	if len(cs) == 0 {
		return from
	}
	return cs[len(cs)-1].Revision
}

// meta is a note's metadata hash, decoded.
// attendee is a scribe.Attendee as the meta hash's "people" field keeps
// it (append.lua adds them), with its email.
type attendee struct {
	Key   string `json:"k"`
	Name  string `json:"n"`
	Email string `json:"e,omitempty"`
}

type meta struct {
	note scribe.Note
	len  int64 // UTF-16 length of the text at the head
}

func decodeMeta(id scribe.NoteID, m map[string]string) (meta, error) {
	var err error
	num := func(field string) int64 {
		v, e := strconv.ParseInt(m[field], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("field %s: %q is not a number", field, m[field])
		}
		return v
	}
	created, updated, rev, length := num("created"), num("updated"), num("rev"), num("len")
	if err != nil {
		return meta{}, corrupt("metadata", id, err)
	}
	if rev < 0 || length < 0 {
		return meta{}, corrupt("metadata", id, errors.New("negative revision or length"))
	}
	var people []attendee
	if v := m["people"]; v != "" {
		if err := json.Unmarshal([]byte(v), &people); err != nil {
			return meta{}, corrupt("metadata", id, fmt.Errorf("field people: %v", err))
		}
	}
	var attendees []scribe.Attendee
	for _, a := range people {
		attendees = append(attendees, scribe.Attendee(a))
	}
	return meta{
		note: scribe.Note{
			ID:        id,
			Title:     m["title"],
			Template:  m["template"],
			Series:    m["series"],
			CreatedAt: time.Unix(0, created).UTC(),
			UpdatedAt: time.Unix(0, updated).UTC(),
			Revision:  scribe.Revision(rev),
			GuestEdit: m["guest"] == "1",
			Archived:  m["archived"] == "1",
			Attendees: attendees,
		},
		len: length,
	}, nil
}

// pairs turns an HGETALL reply read through a script (a flat array) into a map.
func pairs(v any) (map[string]string, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr)%2 != 0 {
		return nil, false
	}
	m := make(map[string]string, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		k, ok1 := arr[i].(string)
		v, ok2 := arr[i+1].(string)
		if !ok1 || !ok2 {
			return nil, false
		}
		m[k] = v
	}
	return m, true
}

func notFound() error { return scribe.Errorf(scribe.ENOTFOUND, "Note not found.") }

// CreateNote creates a note with a new random id, at revision 0.
func (s *Store) CreateNote(ctx context.Context, n scribe.NewNote) (scribe.Note, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Note{}, err
	}
	if err := n.Validate(); err != nil {
		return scribe.Note{}, err
	}
	length := ot.Len16(n.Text)
	if length > ot.MaxLength {
		return scribe.Note{}, scribe.Errorf(scribe.ETOOLARGE, "The text is longer than %d characters.", ot.MaxLength)
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = s.clock()
	}
	id := scribe.NewNoteID()
	ns := strconv.FormatInt(created.UnixNano(), 10)
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "snap")}
	if s.oneNode {
		keys = append(keys, s.byUpdatedKey())
	}
	guest := "0"
	if n.GuestEdit {
		guest = "1"
	}
	err := createScript.Run(ctx, s.client, keys, n.Title, n.Template, ns, length, n.Text, string(id), guest, n.Series).Err()
	if err != nil {
		return scribe.Note{}, s.wrap(ctx, "create note", err)
	}
	if !s.oneNode {
		if err := s.touch(ctx, id, created); err != nil {
			return scribe.Note{}, err
		}
	}
	s.publishChange(ctx, id, 0)
	// The first appends to a new note need its text: keep it.
	if d, err := ot.NewDocument(n.Text); err == nil {
		e := s.cache.get(id)
		e.mu.Lock()
		e.doc, e.rev = d, 0
		s.cache.resize(e, docSize(d))
		e.mu.Unlock()
	}
	return scribe.Note{
		ID:        id,
		Title:     n.Title,
		Template:  n.Template,
		Series:    n.Series,
		CreatedAt: time.Unix(0, created.UnixNano()).UTC(),
		UpdatedAt: time.Unix(0, created.UnixNano()).UTC(),
		GuestEdit: n.GuestEdit,
	}, nil
}

// UpdateNote changes the note's title and guest-editing setting, in one
// script that writes nothing when the note does not exist.
func (s *Store) UpdateNote(ctx context.Context, id scribe.NoteID, u scribe.NoteUpdate) (scribe.Note, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Note{}, err
	}
	if !id.Valid() {
		return scribe.Note{}, notFound()
	}
	if err := u.Validate(); err != nil {
		return scribe.Note{}, err
	}
	var args []any
	if u.Title != nil {
		args = append(args, "title", *u.Title)
	}
	if u.GuestEdit != nil {
		g := "0"
		if *u.GuestEdit {
			g = "1"
		}
		args = append(args, "guest", g)
	}
	if u.Series != nil {
		args = append(args, "series", *u.Series)
	}
	if u.Archived != nil {
		a := "0"
		if *u.Archived {
			a = "1"
		}
		args = append(args, "archived", a)
	}
	ok, err := updateScript.Run(ctx, s.client, []string{s.noteKey(id, "meta")}, args...).Int()
	if err != nil {
		return scribe.Note{}, s.wrap(ctx, "update note", err)
	}
	if ok == 0 {
		return scribe.Note{}, notFound()
	}
	n, err := s.GetNote(ctx, id)
	if err == nil && (u.Title != nil || u.Series != nil || u.Archived != nil) {
		// A new title, series or archived flag is a change followers (the
		// search index) must see.
		s.publishChange(ctx, id, n.Revision)
	}
	return n, err
}

// touch moves the note to t in the most-recently-edited index, never backwards.
func (s *Store) touch(ctx context.Context, id scribe.NoteID, t time.Time) error {
	err := s.client.ZAddGT(ctx, s.byUpdatedKey(), goredis.Z{Score: float64(t.UnixNano()), Member: string(id)}).Err()
	return s.wrap(ctx, "index note", err)
}

// GetNote returns the note's metadata without its text.
func (s *Store) GetNote(ctx context.Context, id scribe.NoteID) (scribe.Note, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Note{}, err
	}
	if !id.Valid() {
		return scribe.Note{}, notFound()
	}
	m, err := s.client.HGetAll(ctx, s.noteKey(id, "meta")).Result()
	if err != nil {
		return scribe.Note{}, s.wrap(ctx, "get note", err)
	}
	if len(m) == 0 {
		return scribe.Note{}, notFound()
	}
	md, err := decodeMeta(id, m)
	if err != nil {
		return scribe.Note{}, err
	}
	return md.note, nil
}

// LoadNote returns the note with its text at the head revision, read in one
// round trip: the latest snapshot and the changes since it.
func (s *Store) LoadNote(ctx context.Context, id scribe.NoteID) (scribe.Document, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Document{}, err
	}
	if !id.Valid() {
		return scribe.Document{}, notFound()
	}
	doc, snapRev, err := s.load(ctx, id)
	if err != nil {
		return scribe.Document{}, err
	}
	s.lastReplayed.Store(int64(doc.Revision - snapRev))
	// Keep the text for the appends that usually follow a load (a session
	// opening the note), unless an append is busy with the entry.
	if e := s.cache.get(id); e.mu.TryLock() {
		if e.doc == nil || e.rev < doc.Revision {
			if d, err := ot.NewDocument(doc.Text); err == nil {
				e.doc, e.rev = d, doc.Revision
				s.cache.resize(e, docSize(d))
			}
		}
		e.mu.Unlock()
	}
	if int64(doc.Revision-snapRev) >= s.interval(len(doc.Text)) {
		// The worker has not kept up (or was stopped): store the text we
		// have just computed, so the next load is cheap again.
		if err := s.writeSnapshot(ctx, id, doc.Revision, doc.Text); err != nil && ctx.Err() == nil {
			s.log.Error("write snapshot on load", "err", err)
		}
	}
	return doc, nil
}

// LastLoadReplayed returns how many committed changes the most recent
// LoadNote (of any note, by this Store) applied on top of a snapshot. The
// conformance suite uses it (storetest.ReplayCounter) to prove that loading
// never replays the whole history.
func (s *Store) LastLoadReplayed() int { return int(s.lastReplayed.Load()) }

// load reads the note's metadata, snapshot and the changes since, applies
// them, and returns the document at the head and the snapshot's revision.
func (s *Store) load(ctx context.Context, id scribe.NoteID) (scribe.Document, scribe.Revision, error) {
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "snap"), s.noteKey(id, "log"), s.noteKey(id, "cold")}
	res, err := loadScript.Run(ctx, s.client, keys).Slice()
	if err != nil {
		return scribe.Document{}, 0, s.wrap(ctx, "load note", err)
	}
	if len(res) != 4 {
		return scribe.Document{}, 0, fmt.Errorf("load note: script returned %d values", len(res))
	}
	m, ok := pairs(res[0])
	if !ok {
		return scribe.Document{}, 0, corrupt("metadata", id, nil)
	}
	md, err := decodeMeta(id, m)
	if err != nil {
		return scribe.Document{}, 0, err
	}
	revStr, ok1 := res[1].(string)
	text, ok2 := res[2].(string)
	entries, ok3 := res[3].([]any)
	if !ok1 || !ok2 || !ok3 {
		return scribe.Document{}, 0, corrupt("snapshot", id, errors.New("missing"))
	}
	snapRev, err := strconv.ParseInt(revStr, 10, 64)
	if err != nil || snapRev < 0 || snapRev > int64(md.note.Revision) {
		return scribe.Document{}, 0, corrupt("snapshot", id, fmt.Errorf("bad revision %q", revStr))
	}
	changes, err := chainTo(id, entries, scribe.Revision(snapRev), md.note.Revision)
	if err != nil {
		return scribe.Document{}, 0, err
	}
	if text, err = replay(id, text, changes); err != nil {
		return scribe.Document{}, 0, err
	}
	return scribe.Document{Note: md.note, Text: text}, scribe.Revision(snapRev), nil
}

// replayOnDocument is the number of changes from which replay applies them
// to an ot.Document rather than to strings. ot.Apply on a string copies the
// whole text per op; a Document costs about a dozen such copies to build
// from the text and turn back into one, then little per op
// (BenchmarkReplay: on a text of 90,000 characters the two are even at
// 13-15 ops, and at 100 ops the Document is 9 times faster).
const replayOnDocument = 12

// replay applies the changes, in order, to text (the snapshot they follow):
// to the string itself when there are few, else to an ot.Document. Replaying
// the 100-200 ops after a snapshot of a long note on strings was the
// snapshot worker's main cost under a flood of appends. Both ways give the
// same text, and the same error for a change that does not apply.
func replay(id scribe.NoteID, text string, changes []scribe.Change) (string, error) {
	var doc *ot.Document
	for _, c := range changes {
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			return "", corrupt("log", id, fmt.Errorf("revision %d: %v", c.Revision, err))
		}
		switch {
		case len(changes) < replayOnDocument:
			text, err = ot.Apply(text, op)
		case doc == nil:
			if doc, err = ot.NewDocument(text); err == nil {
				err = doc.Apply(op)
			}
		default:
			err = doc.Apply(op)
		}
		if err != nil {
			return "", corrupt("log", id, fmt.Errorf("revision %d does not apply: %v", c.Revision, err))
		}
	}
	if doc != nil {
		text = doc.String()
	}
	return text, nil
}

// ListNotes returns up to limit notes, most recently edited first.
func (s *Store) ListNotes(ctx context.Context, limit int) ([]scribe.Note, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, scribe.Errorf(scribe.EINVALID, "The limit must be at least 1.")
	}
	limit = min(limit, maxListNotes)
	ids, err := s.client.ZRevRange(ctx, s.byUpdatedKey(), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, s.wrap(ctx, "list notes", err)
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	if len(ids) > 0 {
		_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.noteKey(scribe.NoteID(id), "meta"))
			}
			return nil
		})
		if err != nil {
			return nil, s.wrap(ctx, "list notes", err)
		}
	}
	notes := make([]scribe.Note, 0, len(ids))
	for i, id := range ids {
		nid := scribe.NoteID(id)
		if !nid.Valid() {
			return nil, corrupt("note index", "", errors.New("a member is not a note id"))
		}
		m := cmds[i].Val()
		if len(m) == 0 {
			continue // indexed but not (or no longer) stored
		}
		md, err := decodeMeta(nid, m)
		if err != nil {
			return nil, err
		}
		notes = append(notes, md.note)
	}
	// The index may lag the metadata by one edit (see the package comment);
	// the metadata's time is exact.
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].UpdatedAt.After(notes[j].UpdatedAt) })
	return notes, nil
}

// checkChange validates the parts of a change the caller sets, other than Op.
func checkChange(i int, c scribe.Change) error {
	switch {
	case c.Session == "":
		return scribe.Errorf(scribe.EINVALID, "Change %d has no session id.", i+1)
	case c.Seq == 0:
		return scribe.Errorf(scribe.EINVALID, "Change %d has sequence number 0; they start at 1.", i+1)
	case len(c.Session) > maxSessionLen:
		return scribe.Errorf(scribe.EINVALID, "Change %d: the session id is longer than %d bytes.", i+1, maxSessionLen)
	case !utf8.ValidString(c.Session):
		return scribe.Errorf(scribe.EINVALID, "Change %d: the session id is not valid UTF-8.", i+1)
	case len(c.Author) > maxAuthorLen:
		return scribe.Errorf(scribe.EINVALID, "Change %d: the author is longer than %d bytes.", i+1, maxAuthorLen)
	case !utf8.ValidString(c.Author):
		return scribe.Errorf(scribe.EINVALID, "Change %d: the author is not valid UTF-8.", i+1)
	case len(c.Email) > scribe.MaxEmail || !utf8.ValidString(c.Email):
		return scribe.Errorf(scribe.EINVALID, "Change %d: the email is longer than %d bytes or not valid UTF-8.", i+1, scribe.MaxEmail)
	}
	return nil
}

func opMessage(err error) string {
	var oe *ot.Error
	if errors.As(err, &oe) {
		return oe.Message
	}
	if scribe.ErrorCode(err) == scribe.EINVALID {
		return scribe.ErrorMessage(err) // a credit that does not fit the op
	}
	return "the operation is invalid"
}

// Changes returns the committed changes with from < Revision <= to.
func (s *Store) Changes(ctx context.Context, id scribe.NoteID, from, to scribe.Revision) ([]scribe.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound()
	}
	if from < 0 || to < from {
		return nil, scribe.Errorf(scribe.EINVALID, "Invalid revision range (%d, %d].", from, to)
	}
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "log"), s.noteKey(id, "cold")}
	res, err := changesScript.Run(ctx, s.client, keys, int64(from), int64(to)).Slice()
	if err != nil {
		return nil, s.wrap(ctx, "changes", err)
	}
	if len(res) != 2 {
		return nil, fmt.Errorf("changes: script returned %d values", len(res))
	}
	headStr, _ := res[0].(string)
	head, err := strconv.ParseInt(headStr, 10, 64)
	if err != nil || head < 0 {
		return nil, corrupt("metadata", id, fmt.Errorf("head %q", headStr))
	}
	entries, ok := res[1].([]any)
	if !ok {
		return nil, corrupt("log", id, nil)
	}
	return chainTo(id, entries, from, max(from, min(to, scribe.Revision(head))))
}

// LastSeq returns the highest sequence number committed for session in the
// note and the revision it produced; (0, 0) if none.
func (s *Store) LastSeq(ctx context.Context, id scribe.NoteID, session string) (uint64, scribe.Revision, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if !id.Valid() {
		return 0, 0, notFound()
	}
	var exists *goredis.IntCmd
	var last *goredis.StringCmd
	// Both keys share the note's slot, so the pipeline is one round trip
	// to one node.
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, s.noteKey(id, "meta"))
		last = p.HGet(ctx, s.noteKey(id, "sessions"), session)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, 0, s.wrap(ctx, "last seq", err)
	}
	if exists.Val() == 0 {
		return 0, 0, notFound()
	}
	v, err := last.Result()
	if errors.Is(err, goredis.Nil) {
		return 0, 0, nil
	}
	seqStr, revStr, ok := strings.Cut(v, ":")
	seq, err1 := strconv.ParseUint(seqStr, 10, 64)
	rev, err2 := strconv.ParseInt(revStr, 10, 64)
	if !ok || err1 != nil || err2 != nil || rev <= 0 {
		return 0, 0, corrupt("session index", id, fmt.Errorf("%q", v))
	}
	return seq, scribe.Revision(rev), nil
}
