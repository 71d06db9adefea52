// Package bolt is Scribe's embedded, default Store: one bbolt file
// (<data-dir>/scribe.db) used by one process, with subscriptions fanned out
// in process.
//
// Durability: every write transaction is fsynced when it commits (bbolt's
// default; NoSync is never set), so a change is on disk when Append returns.
// Appends from many goroutines are group-committed: one writer goroutine
// drains every Append queued while the previous transaction was syncing into
// the next transaction, so concurrent appends to many notes share one fsync.
//
// Layout (all integers big-endian, so keys sort by number; every value but
// the format stamp and the empty index values is prefixed with its CRC-32C):
//
//	scribe/format                     -> "4" (FormatVersion)
//	notes/<id>                        -> meta JSON (title, times, head revision,
//	                                     head text length, snapshot revision)
//	updated/<unix-nanos><id>          -> "" (ListNotes index, newest last; the
//	                                     newest may lag its note: "l", list.go)
//	logs/<id>/ops/<rev>               -> change JSON (scribe.Change, canonical op),
//	                                     or a fold of compacted history (compact.go)
//	logs/<id>/snap/<rev>              -> text at rev (only the latest snapshot)
//	logs/<id>/hist/<rev>, marks/...   -> history snapshots, named checkpoints (history.go)
//	logs/<id>/authors/<rev>           -> who wrote the text at rev, beside each snapshot (authors.go)
//	logs/<id>/seqs/<len><session><seq> -> rev (deduplication, LastSeq)
//	logs/<id>/head                    -> rev, len, history, updated (4 x 8 bytes):
//	                                     the part of the meta every append changes;
//	                                     when present it overrides the meta's
//	                                     (append.go writes only this, mostly)
//	logs/<id>/shares/<nanos><token>   -> "" (ListShares index, oldest first)
//	shares/<token>                    -> share JSON (note id, creation time)
//
// Snapshots: when an append crosses a multiple of SnapshotEvery, the text at
// the new head is written in the same transaction, replacing the previous
// snapshot. LoadNote therefore replays fewer than SnapshotEvery operations.
//
// Validation: Append applies each new op to the note's text before writing
// it, so the log always replays: an op that is not ot JSON, whose base length
// is not the text's length, or whose boundary falls inside a surrogate pair
// is EINVALID and nothing is written. The writer keeps the head text of
// recently appended notes in memory as ot.Documents (O(log n) per op), so
// this costs no read in the common case; a note not cached is loaded once
// from its snapshot. The same Documents give the snapshots.
//
// Change feed (scribe.NoteFeed): CreateNote and every Append that writes
// publish a "note changed" event after the commit, in process and in memory
// (the last FeedLength events; see feed.go). A follower resuming with a
// cursor of an earlier run is told it lost events and resynchronises.
//
// Subscriptions: each subscriber has a buffered channel (SubscriberBuffer
// events) that the writer fills without blocking, after the commit and
// before Append returns. A subscriber that falls further behind loses events
// (Dropped counts them) and fills the gap from the log, as every subscriber
// must (storetest.Follower does it).
//
// Operations: a second process opening the same data directory gets an
// error saying it is in use (bbolt's file lock) after OpenTimeout. Backup
// copies the database consistently while the store serves; copying the file
// with cp while it is open can catch a half-written page.
//
// Stored data that cannot be decoded gives an EINTERNAL error naming the
// note and revision; nothing panics.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Defaults for the Store's settings.
const (
	DefaultSnapshotEvery    = 100
	DefaultOpenTimeout      = time.Second
	DefaultSubscriberBuffer = 1024
	// FileName is the database file's name inside the data directory.
	FileName = "scribe.db"
	// maxGroup bounds how many queued appends share one transaction.
	maxGroup = 256
	// maxSession bounds a session id's length (the key stores it in a byte).
	maxSession = 255
)

// FormatVersion is the layout this package reads and writes, recorded in
// the file at creation. Open refuses a file of any other version, so that
// a newer layout is never misread by an older binary (or the reverse).
//
// Format 2 prefixes every stored value (metadata, change, snapshot,
// deduplication entry, share) with its CRC-32C, so that a damaged value is
// reported as corrupt instead of read as different text. Format 3 may hold
// folds of compacted history (compact.go), which a format-2 reader would
// take for missing revisions; a format-2 file is a format-3 file without
// folds, so Open restamps it. Format 4 may leave the newest entry of the
// updated index behind its note's UpdatedAt, marked lagging (list.go),
// which a format-3 writer would not move and so list the note twice; a
// format-3 file is a format-4 file with no lagging entry, so Open
// restamps it too. Format 4 also keeps the part of a note's metadata that
// every append changes in logs/<id>/head, which a format-3 reader would
// not see (it would read an old head revision).
const FormatVersion = 4

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// seal returns b prefixed with its CRC-32C, as every value is stored.
func seal(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), crc32.Checksum(b, crcTable))
	return append(out, b...)
}

// unseal returns the value inside a sealed v, and whether its checksum holds.
func unseal(v []byte) ([]byte, bool) {
	if len(v) < 4 {
		return nil, false
	}
	b := v[4:]
	return b, binary.BigEndian.Uint32(v) == crc32.Checksum(b, crcTable)
}

var (
	bucketInfo    = []byte("scribe")
	keyFormat     = []byte("format")
	bucketNotes   = []byte("notes")
	bucketUpdated = []byte("updated")
	bucketLogs    = []byte("logs")
	bucketShares  = []byte("shares")
	bucketOps     = []byte("ops")
	bucketSnap    = []byte("snap")
	bucketSeqs    = []byte("seqs")
	bucketNoteSh  = []byte("shares")
	keyHead       = []byte("head")
)

var _ scribe.Store = (*Store)(nil)

// Options configures a Store. The zero value gives the defaults.
type Options struct {
	// SnapshotEvery is K: a snapshot is written whenever an append crosses a
	// multiple of K revisions. DefaultSnapshotEvery when zero.
	SnapshotEvery int
	// HistoryEvery is how many revisions apart, at least, the snapshots
	// kept for history are (see history.go). scribe.HistoryEvery when zero.
	HistoryEvery int
	// OpenTimeout is how long Open waits for another process to release the
	// database file. DefaultOpenTimeout when zero.
	OpenTimeout time.Duration
	// SubscriberBuffer is how many events a subscriber may fall behind
	// before further events to it are dropped (it then fills the gap from
	// the log). DefaultSubscriberBuffer when zero.
	SubscriberBuffer int
	// FeedLength is how many change-feed events the store keeps for
	// followers resuming from a cursor, and how far a follower may fall
	// behind before it gets a Lost event. DefaultFeedLength when zero.
	FeedLength int
	// MinFreeBytes is the free space the data directory's disk must keep:
	// below it, appends and creations fail with EUNAVAILABLE (reads go on).
	// DefaultMinFreeBytes when zero; negative turns the check off.
	MinFreeBytes int64
	// FreeSpace measures the free space; StatfsFree when nil.
	FreeSpace FreeSpace
	// MaxHistoryBytes is each note's history budget: the bytes of every
	// change it has stored (op, session, author; compaction lowers it by
	// what folding freed, see compact.go). An append that would
	// pass it is refused whole with ETOOLARGE. Notes written before the
	// budget existed count from the first append after it. Default
	// DefaultMaxHistoryBytes when zero; negative turns it off.
	MaxHistoryBytes int64
	// Now is the clock appends stamp changes with; time.Now when nil.
	// Tests set it to write history "days ago" (storetest.RunCompaction).
	Now func() time.Time
}

// Store is the embedded scribe.Store. Its lifecycle is New, Open, then
// Close. It is safe for concurrent use by many goroutines of one process.
type Store struct {
	opts Options
	dir  string
	db   *bbolt.DB
	reqs chan *appendReq

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards subs and closed
	subs   map[scribe.NoteID]map[*subscription]struct{}
	closed bool

	feed *feed // the change feed (see feed.go)
	disk *diskGuard

	heads   *heads          // owned by the writer goroutine
	touched []scribe.NoteID // notes whose heads the current transaction moved

	replayed atomic.Int64 // ops the latest LoadNote replayed
	dropped  atomic.Int64 // events dropped for slow subscribers
	txs      atomic.Int64 // append transactions that committed
	appends  atomic.Int64 // Append calls that wrote
	ops      atomic.Int64 // changes written

	compactMu   sync.Mutex // one CompactStep at a time; guards compactNext
	compactNext string     // the note the next CompactStep starts at
	folded      atomic.Int64
	freed       atomic.Int64
}

// New returns a Store that keeps its file in dataDir. It does no I/O; call
// Open.
func New(dataDir string, opts Options) *Store {
	if opts.HistoryEvery <= 0 {
		opts.HistoryEvery = scribe.HistoryEvery
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = DefaultOpenTimeout
	}
	if opts.SubscriberBuffer <= 0 {
		opts.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if opts.FeedLength <= 0 {
		opts.FeedLength = DefaultFeedLength
	}
	if opts.MaxHistoryBytes == 0 {
		opts.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if opts.MinFreeBytes == 0 {
		opts.MinFreeBytes = DefaultMinFreeBytes
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = StatfsFree
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{dir: dataDir, opts: opts}
	if opts.MinFreeBytes > 0 {
		s.disk = &diskGuard{dir: dataDir, min: uint64(opts.MinFreeBytes), free: opts.FreeSpace}
	}
	return s
}

// Path returns the database file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, FileName) }

// Open creates the data directory if missing, opens (or creates) the
// database file and starts the writer. Only one process can have a data
// directory open; a second gets an error saying so after OpenTimeout. ctx
// bounds nothing but is checked first; Open is not safe to call twice.
func (s *Store) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("bolt: create data directory: %w", err)
	}
	db, err := bbolt.Open(s.Path(), 0o600, &bbolt.Options{Timeout: s.opts.OpenTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("bolt: data directory %s is in use by another scribe process (%s is locked)", s.dir, s.Path())
	} else if err != nil {
		return fmt.Errorf("bolt: open %s: %w", s.Path(), err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		info, err := tx.CreateBucketIfNotExists(bucketInfo)
		if err != nil {
			return err
		}
		switch v := info.Get(keyFormat); {
		case v == nil && tx.Bucket(bucketNotes) != nil:
			return fmt.Errorf("the file is in format 1 (unstamped, without checksums), this Scribe reads format %d", FormatVersion)
		case v == nil, string(v) == "2", string(v) == "3":
			if err := info.Put(keyFormat, []byte(strconv.Itoa(FormatVersion))); err != nil {
				return err
			}
		case string(v) != strconv.Itoa(FormatVersion):
			return fmt.Errorf("the file is in format %q, this Scribe reads format %d (was it written by a newer Scribe?)", v, FormatVersion)
		}
		for _, name := range [][]byte{bucketNotes, bucketUpdated, bucketLogs, bucketShares, bucketTokens, bucketTokensOwner} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		db.Close()
		return fmt.Errorf("bolt: open %s: %w", s.Path(), err)
	}
	s.db = db
	s.heads = newHeads()
	s.feed = newFeed(s.opts.FeedLength)
	s.reqs = make(chan *appendReq) // unbuffered: an accepted request is always answered
	s.subs = make(map[scribe.NoteID]map[*subscription]struct{})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Go(s.writer)
	return nil
}

// Close stops the writer, ends every subscription and closes the file. A
// second Close does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed || s.db == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	for _, set := range s.subs {
		for sub := range set {
			sub.closeLocked()
		}
	}
	s.subs = nil
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// LastLoadReplayed returns how many operations the most recent LoadNote
// applied on top of its snapshot (storetest.ReplayCounter).
func (s *Store) LastLoadReplayed() int { return int(s.replayed.Load()) }

// Dropped returns how many subscription events were dropped because their
// subscriber was SubscriberBuffer events behind.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Stats counts the store's work since Open, for metrics and for judging
// group commit: Ops/Transactions is how many changes share one fsync.
type Stats struct {
	Transactions  int64 // append transactions committed (one fsync each)
	Appends       int64 // Append calls that wrote at least one change
	Ops           int64 // changes written
	DroppedEvents int64 // subscription events dropped for slow subscribers
}

// Stats returns the counters. It is safe to call at any time.
func (s *Store) Stats() Stats {
	return Stats{Transactions: s.txs.Load(), Appends: s.appends.Load(), Ops: s.ops.Load(), DroppedEvents: s.dropped.Load()}
}

var errClosed = scribe.Errorf(scribe.EUNAVAILABLE, "The store is closed.")

// begin checks the context and that the store is open.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.db == nil {
		return errClosed
	}
	return nil
}

func (s *Store) view(what string, fn func(tx *bbolt.Tx) error) error {
	err := s.db.View(fn)
	return wrap(what, err)
}

func (s *Store) update(what string, fn func(tx *bbolt.Tx) error) error {
	err := s.db.Update(fn)
	return wrap(what, err)
}

// wrap leaves scribe errors as they are and gives others context.
func wrap(what string, err error) error {
	var se *scribe.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return err
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return errClosed
	}
	return fmt.Errorf("bolt: %s: %w", what, err)
}

// ---- encoding ----

type meta struct {
	Title     string    `json:"title"`
	Template  string    `json:"template,omitempty"`
	Series    string    `json:"series,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Rev       int64     `json:"rev"`
	Len       int       `json:"len"` // head text length in UTF-16 code units
	SnapRev   int64     `json:"snapRev"`
	GuestEdit bool      `json:"guestEdit,omitempty"`
	Archived  bool      `json:"archived,omitempty"`
	History   int64     `json:"history,omitempty"` // bytes of changes stored (historyBytes), for the budget
	Cold      int64     `json:"cold,omitempty"`    // the log is compacted up to here (compact.go)
	// Attendees are the note's scribe.Note.Attendees, emails included; an
	// append adds its newcomers in its own transaction (plan).
	Attendees []attendee `json:"people,omitempty"`
}

// attendee is a scribe.Attendee as stored (with its email, which the
// domain type does not serialise).
type attendee struct {
	Key   string `json:"k"`
	Name  string `json:"n"`
	Email string `json:"e,omitempty"`
}

// clone returns a copy of m that can be changed without changing m: its
// attendees share m's array, clipped, so adding one copies it.
func (m *meta) clone() *meta {
	c := *m
	c.Attendees = slices.Clip(c.Attendees)
	return &c
}

func (m *meta) note(id scribe.NoteID) scribe.Note {
	n := scribe.Note{ID: id, Title: m.Title, Template: m.Template, Series: m.Series, CreatedAt: m.CreatedAt,
		UpdatedAt: m.UpdatedAt, Revision: scribe.Revision(m.Rev), GuestEdit: m.GuestEdit, Archived: m.Archived}
	for _, a := range m.Attendees {
		n.Attendees = append(n.Attendees, scribe.Attendee(a))
	}
	return n
}

// addAttendees adds the authors of changes that m does not list yet, up
// to scribe.MaxAttendees.
func (m *meta) addAttendees(changes []scribe.Change) {
	for i, c := range changes {
		if len(m.Attendees) >= scribe.MaxAttendees {
			return
		}
		if i > 0 && scribe.SameAuthor(changes[i-1], c) {
			continue
		}
		a := scribe.AttendeeOf(c)
		if !slices.ContainsFunc(m.Attendees, func(b attendee) bool { return b.Key == a.Key }) {
			m.Attendees = append(m.Attendees, attendee(a))
		}
	}
}

type shareRecord struct {
	Note      scribe.NoteID `json:"note"`
	CreatedAt time.Time     `json:"createdAt"`
	Label     string        `json:"label,omitempty"`
	By        scribe.Person `json:"by,omitzero"`
}

func (r *shareRecord) share(tok scribe.Token) scribe.Share {
	return scribe.Share{Token: tok, NoteID: r.Note, CreatedAt: r.CreatedAt, ShareMeta: scribe.ShareMeta{Label: r.Label, By: r.By}}
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func revKey(r int64) []byte { return u64(uint64(r)) }

func updatedKey(t time.Time, id scribe.NoteID) []byte {
	return append(u64(uint64(t.UnixNano())), id...)
}

func seqPrefix(session string) []byte {
	return append([]byte{byte(len(session))}, session...)
}

func seqKey(session string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(seqPrefix(session), seq)
}

func corrupt(id scribe.NoteID, format string, args ...any) error {
	return scribe.Errorf(scribe.EINTERNAL, "Stored data of note %s is corrupt: %s.", id, fmt.Sprintf(format, args...))
}

func notFound(id scribe.NoteID) error {
	return scribe.Errorf(scribe.ENOTFOUND, "Note not found.")
}

// getMeta reads a note's metadata: ENOTFOUND if absent, EINTERNAL if corrupt.
func getMeta(tx *bbolt.Tx, id scribe.NoteID) (*meta, error) {
	return newMetas(tx).get(id)
}

// metas reads notes' metadata in one transaction, the note list's many
// included: it opens the notes and logs buckets once (in a read-only
// transaction bbolt opens a bucket anew at every lookup).
type metas struct{ notes, logs *bbolt.Bucket }

func newMetas(tx *bbolt.Tx) metas {
	return metas{notes: tx.Bucket(bucketNotes), logs: tx.Bucket(bucketLogs)}
}

// get is getMeta.
func (r metas) get(id scribe.NoteID) (*meta, error) {
	if !id.Valid() {
		return nil, notFound(id)
	}
	var hv []byte
	if nb := r.logs.Bucket([]byte(id)); nb != nil {
		hv = nb.Get(keyHead)
	}
	return decodeMeta(id, r.notes.Get([]byte(id)), hv)
}

// headValue returns the note's stored head record (logs/<id>/head), or nil.
func headValue(tx *bbolt.Tx, id scribe.NoteID) []byte {
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return nil
	}
	return nb.Get(keyHead)
}

// encodeHead returns m's head record, sealed: rev, len, history and
// UpdatedAt in unix ns, 8 bytes each.
func encodeHead(m *meta) []byte {
	b := make([]byte, 0, 32)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Rev))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Len))
	b = binary.BigEndian.AppendUint64(b, uint64(m.History))
	b = binary.BigEndian.AppendUint64(b, uint64(m.UpdatedAt.UnixNano()))
	return seal(b)
}

// putMeta writes all of m: the metadata and, once the note has a log
// bucket, its head record (which must agree with it whenever present).
// It returns both as stored.
func putMeta(tx *bbolt.Tx, id scribe.NoteID, m *meta) (stored, head []byte, err error) {
	mv, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("encode note: %w", err)
	}
	stored = seal(mv)
	if err := tx.Bucket(bucketNotes).Put([]byte(id), stored); err != nil {
		return nil, nil, err
	}
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return stored, nil, nil
	}
	head = encodeHead(m)
	return stored, head, nb.Put(keyHead, head)
}

// decodeMeta decodes a note's stored (sealed) metadata v, nil if absent,
// with its head record hv on top when there is one.
func decodeMeta(id scribe.NoteID, v, hv []byte) (*meta, error) {
	if v == nil {
		return nil, notFound(id)
	}
	v, ok := unseal(v)
	if !ok {
		return nil, corrupt(id, "metadata: checksum mismatch")
	}
	var m meta
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, corrupt(id, "metadata: %v", err)
	}
	if hv != nil {
		h, ok := unseal(hv)
		if !ok || len(h) != 32 {
			return nil, corrupt(id, "head record: checksum or length mismatch")
		}
		m.Rev = int64(binary.BigEndian.Uint64(h))
		m.Len = int(int64(binary.BigEndian.Uint64(h[8:])))
		m.History = int64(binary.BigEndian.Uint64(h[16:]))
		m.UpdatedAt = time.Unix(0, int64(binary.BigEndian.Uint64(h[24:]))).UTC()
	}
	if m.Rev < 0 || m.SnapRev < 0 || m.SnapRev > m.Rev || m.Len < 0 || m.Cold < 0 || m.Cold > m.Rev {
		return nil, corrupt(id, "metadata: revision %d, snapshot %d, length %d", m.Rev, m.SnapRev, m.Len)
	}
	return &m, nil
}

// noteBucket returns the note's log bucket and the named sub-bucket.
func noteBucket(tx *bbolt.Tx, id scribe.NoteID, sub []byte) (*bbolt.Bucket, error) {
	nb := tx.Bucket(bucketLogs).Bucket([]byte(id))
	if nb == nil {
		return nil, corrupt(id, "the log bucket is missing")
	}
	b := nb.Bucket(sub)
	if b == nil {
		return nil, corrupt(id, "the %s bucket is missing", sub)
	}
	return b, nil
}

// decodeEntry decodes a stored log entry, a change or a fold, and checks
// it is stored under its revision.
func decodeEntry(id scribe.NoteID, k, v []byte) (scribe.Change, error) {
	var c scribe.Change
	if len(k) != 8 {
		return c, corrupt(id, "a log key %x", k)
	}
	rev := int64(binary.BigEndian.Uint64(k))
	v, ok := unseal(v)
	if !ok {
		return c, corrupt(id, "change at revision %d: checksum mismatch", rev)
	}
	if err := json.Unmarshal(v, &c); err != nil {
		return c, corrupt(id, "change at revision %d: %v", rev, err)
	}
	if int64(c.Revision) != rev {
		return c, corrupt(id, "change at revision %d says it is revision %d", rev, c.Revision)
	}
	if c.First != 0 && (c.First < 1 || c.First >= c.Revision) {
		return c, corrupt(id, "the fold at revision %d starts at %d", rev, c.First)
	}
	return c, nil
}

// readLog calls fn with each entry of the note's log from the one after
// from up to to, in order: changes, and folds of compacted history as one
// entry each. from and to must be addressable: one inside a fold gives its
// *scribe.FoldedError. A gap in the log is corrupt.
func readLog(id scribe.NoteID, ops *bbolt.Bucket, from, to int64, fn func(c *scribe.Change) error) error {
	c := ops.Cursor()
	prev := from
	for k, v := c.Seek(revKey(from + 1)); prev < to; k, v = c.Next() {
		if k == nil {
			return corrupt(id, "revision %d is missing from the log", prev+1)
		}
		ch, err := decodeEntry(id, k, v)
		if err != nil {
			return err
		}
		if b := int64(ch.Base()); b != prev {
			if prev == from && b < from && from < int64(ch.Revision) {
				return scribe.Folded(scribe.Revision(from), ch.Base(), ch.Revision)
			}
			return corrupt(id, "revision %d is missing from the log", prev+1)
		}
		if int64(ch.Revision) > to {
			return scribe.Folded(scribe.Revision(to), ch.Base(), ch.Revision)
		}
		if err := fn(&ch); err != nil {
			return err
		}
		prev = int64(ch.Revision)
	}
	return nil
}

// readOps is readLog collecting the entries' operations.
func readOps(id scribe.NoteID, ops *bbolt.Bucket, from, to int64) ([]ot.Operation, error) {
	stored := make([]ot.Operation, 0, min(to-from, 1024)) // bounded: the range may be corrupt
	err := readLog(id, ops, from, to, func(c *scribe.Change) error {
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			return corrupt(id, "operation at revision %d: %v", c.Revision, err)
		}
		stored = append(stored, op)
		return nil
	})
	return stored, err
}

// textAt returns the note's text at m.Rev, the snapshot plus the operations
// since it, and how many operations it replayed.
func textAt(tx *bbolt.Tx, id scribe.NoteID, m *meta) (string, int, error) {
	snaps, err := noteBucket(tx, id, bucketSnap)
	if err != nil {
		return "", 0, err
	}
	sv := snaps.Get(revKey(m.SnapRev))
	if sv == nil {
		return "", 0, corrupt(id, "the snapshot at revision %d is missing", m.SnapRev)
	}
	sv, ok := unseal(sv)
	if !ok {
		return "", 0, corrupt(id, "the snapshot at revision %d: checksum mismatch", m.SnapRev)
	}
	text := string(sv)
	if !utf8.ValidString(text) {
		return "", 0, corrupt(id, "the snapshot at revision %d is not UTF-8", m.SnapRev)
	}
	ops, err := noteBucket(tx, id, bucketOps)
	if err != nil {
		return "", 0, err
	}
	stored, err := readOps(id, ops, m.SnapRev, m.Rev)
	if err != nil {
		return "", 0, err
	}
	text, failed, err := replay(text, stored)
	if err != nil {
		return "", 0, corrupt(id, "operation %d after the snapshot at revision %d does not apply: %v", failed+1, m.SnapRev, err)
	}
	if got := ot.Len16(text); got != m.Len {
		return "", 0, corrupt(id, "text at revision %d has length %d, metadata says %d", m.Rev, got, m.Len)
	}
	return text, len(stored), nil
}

// replay applies ops to text in order. On failure it returns the index of
// the op that failed. Small texts are edited as strings; large ones in an
// ot.Document, so that K edits to a long note cost O(K log n), not O(K n).
func replay(text string, ops []ot.Operation) (string, int, error) {
	if len(ops) < 4 || len(text) < 16<<10 {
		for i, op := range ops {
			var err error
			if text, err = ot.Apply(text, op); err != nil {
				return "", i, err
			}
		}
		return text, 0, nil
	}
	d, err := ot.NewDocument(text)
	if err != nil {
		return "", 0, err
	}
	for i, op := range ops {
		if err := d.Apply(op); err != nil {
			return "", i, err
		}
	}
	return d.String(), 0, nil
}

// ---- notes ----

// CreateNote creates a note at revision 0 with text n.Text. Title, template
// and text must be valid UTF-8 (EINVALID).
func (s *Store) CreateNote(ctx context.Context, n scribe.NewNote) (scribe.Note, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Note{}, err
	}
	if err := s.disk.check(); err != nil {
		return scribe.Note{}, err
	}
	if err := n.Validate(); err != nil {
		return scribe.Note{}, err
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Round(0)
	if created.Year() < 1970 || created.Year() > 2200 {
		return scribe.Note{}, scribe.Errorf(scribe.EINVALID, "The creation time %s is out of range.", created.Format(time.RFC3339))
	}
	m := meta{Title: n.Title, Template: n.Template, Series: n.Series, CreatedAt: created, UpdatedAt: created, Len: ot.Len16(n.Text), GuestEdit: n.GuestEdit}
	mv, err := json.Marshal(&m)
	if err != nil {
		return scribe.Note{}, fmt.Errorf("bolt: encode note: %w", err)
	}
	var id scribe.NoteID
	err = s.update("create note", func(tx *bbolt.Tx) error {
		notes := tx.Bucket(bucketNotes)
		for id = scribe.NewNoteID(); notes.Get([]byte(id)) != nil; id = scribe.NewNoteID() {
		}
		if err := notes.Put([]byte(id), seal(mv)); err != nil {
			return err
		}
		if err := list(tx, id, created); err != nil {
			return err
		}
		nb, err := tx.Bucket(bucketLogs).CreateBucket([]byte(id))
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketOps, bucketSeqs, bucketNoteSh} {
			if _, err := nb.CreateBucket(name); err != nil {
				return err
			}
		}
		snap, err := nb.CreateBucket(bucketSnap)
		if err != nil {
			return err
		}
		return snap.Put(revKey(0), seal([]byte(n.Text)))
	})
	if err != nil {
		return scribe.Note{}, err
	}
	s.feed.publish(scribe.NoteChange{ID: id})
	return m.note(id), nil
}

// LoadNote returns the note's text at its head revision, replaying fewer
// than SnapshotEvery operations on top of the latest snapshot.
func (s *Store) LoadNote(ctx context.Context, id scribe.NoteID) (scribe.Document, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Document{}, err
	}
	var d scribe.Document
	err := s.view("load note", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		text, n, err := textAt(tx, id, m)
		if err != nil {
			return err
		}
		s.replayed.Store(int64(n))
		d = scribe.Document{Note: m.note(id), Text: text}
		return nil
	})
	return d, err
}

// GetNote returns the note's metadata.
func (s *Store) GetNote(ctx context.Context, id scribe.NoteID) (scribe.Note, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Note{}, err
	}
	var n scribe.Note
	err := s.view("get note", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		n = m.note(id)
		return nil
	})
	return n, err
}

// UpdateNote changes the note's title and guest-editing setting.
func (s *Store) UpdateNote(ctx context.Context, id scribe.NoteID, u scribe.NoteUpdate) (scribe.Note, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.Note{}, err
	}
	if err := u.Validate(); err != nil {
		return scribe.Note{}, err
	}
	var n scribe.Note
	err := s.update("update note", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if u.Title != nil {
			m.Title = *u.Title
		}
		if u.GuestEdit != nil {
			m.GuestEdit = *u.GuestEdit
		}
		if u.Series != nil {
			m.Series = *u.Series
		}
		if u.Archived != nil {
			m.Archived = *u.Archived
		}
		if _, _, err := putMeta(tx, id, m); err != nil {
			return err
		}
		n = m.note(id)
		return nil
	})
	if err == nil && (u.Title != nil || u.Series != nil || u.Archived != nil) {
		// A new title, series or archived flag is a change followers (the
		// search index) must see.
		s.feed.publish(scribe.NoteChange{ID: id, Revision: n.Revision})
	}
	return n, err
}

// ListNotes returns up to limit notes, most recently edited first, reading
// only those notes (an index ordered by last edit). limit < 1 is EINVALID.
func (s *Store) ListNotes(ctx context.Context, limit int) ([]scribe.Note, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, scribe.Errorf(scribe.EINVALID, "The limit must be at least 1.")
	}
	out := []scribe.Note{}
	err := s.view("list notes", func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketUpdated).Cursor()
		ms := newMetas(tx)
		for k, _ := c.Last(); k != nil && len(out) < limit; k, _ = c.Prev() {
			if len(k) <= 8 {
				return scribe.Errorf(scribe.EINTERNAL, "Stored note index is corrupt: key %x.", k)
			}
			id := scribe.NoteID(k[8:])
			m, err := ms.get(id)
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				return corrupt(id, "indexed but missing")
			} else if err != nil {
				return err
			}
			out = append(out, m.note(id))
		}
		return nil
	})
	return out, err
}

// ---- the log ----

// Changes returns the changes with from < Revision <= to (to clamped to the
// head). from < 0 or to < from is EINVALID.
func (s *Store) Changes(ctx context.Context, id scribe.NoteID, from, to scribe.Revision) ([]scribe.Change, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if from < 0 || to < from {
		return nil, scribe.Errorf(scribe.EINVALID, "Invalid revision range %d..%d.", from, to)
	}
	out := []scribe.Change{}
	err := s.view("read changes", func(tx *bbolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		last := min(int64(to), m.Rev)
		if int64(from) >= last {
			return nil
		}
		ops, err := noteBucket(tx, id, bucketOps)
		if err != nil {
			return err
		}
		out = make([]scribe.Change, 0, min(last-int64(from), 4096))
		return readLog(id, ops, int64(from), last, func(c *scribe.Change) error {
			out = append(out, *c)
			return nil
		})
	})
	return out, err
}

// LastSeq returns the highest seq committed for session and its revision.
func (s *Store) LastSeq(ctx context.Context, id scribe.NoteID, session string) (uint64, scribe.Revision, error) {
	if err := s.begin(ctx); err != nil {
		return 0, 0, err
	}
	var seq uint64
	var rev scribe.Revision
	err := s.view("read last seq", func(tx *bbolt.Tx) error {
		if _, err := getMeta(tx, id); err != nil {
			return err
		}
		if session == "" || len(session) > maxSession {
			return nil
		}
		seqs, err := noteBucket(tx, id, bucketSeqs)
		if err != nil {
			return err
		}
		prefix := seqPrefix(session)
		c := seqs.Cursor()
		k, v := c.Seek(seqKey(session, ^uint64(0)))
		if k == nil || string(k) != string(seqKey(session, ^uint64(0))) {
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		if k == nil || len(k) != len(prefix)+8 || string(k[:len(prefix)]) != string(prefix) {
			return nil
		}
		v, ok := unseal(v)
		if !ok || len(v) != 8 {
			return corrupt(id, "sequence index entry for session %q", session)
		}
		seq = binary.BigEndian.Uint64(k[len(prefix):])
		rev = scribe.Revision(binary.BigEndian.Uint64(v))
		return nil
	})
	return seq, rev, err
}
