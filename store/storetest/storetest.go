// Package storetest is the one conformance suite every scribe.Store passes,
// and the benchmarks every Store is measured with.
//
// A backend's test file calls Run with a constructor that returns a fresh,
// open store with an empty namespace (a new bbolt file, a new Redis key
// prefix) for each call:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(tb testing.TB) scribe.Store {
//			s := bolt.New(tb.TempDir(), bolt.Options{})
//			if err := s.Open(context.Background()); err != nil {
//				tb.Fatal(err)
//			}
//			tb.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// and its benchmark file calls Benchmark the same way. Run calls t.Run once
// per guarantee of the scribe.Store contract, each with its own store; the
// constructor must register the store's Close with tb.Cleanup, and Close must
// tolerate a second call (the suite closes some stores itself to check that
// Close ends subscriptions).
//
// A backend that several server nodes share also calls RunNodes with a
// constructor of n stores over one fresh namespace, to check what spans
// nodes: subscriptions, revocation, one log for writers on every node. A
// single-process backend may pass the same store n times.
//
// Beyond the letter of the scribe.Store doc comments, the suite pins down
// these choices, which every backend makes the same way:
//
//   - Append checks the expected revision first (ECONFLICT), then each
//     change in order: a duplicate (Session, Seq) is recognised before its op
//     is looked at, so a resend whose op was transformed differently still
//     gets its first revision. Duplicates inside one call count too.
//   - Append validates each new op: it must be ot.js JSON (EINVALID), its
//     base length must equal the length of the text it applies to, counted
//     in UTF-16 code units (EINVALID), and it must apply to that text: no
//     retain or delete boundary inside a surrogate pair (EINVALID). So the
//     log always replays, and one bad op cannot make a note unloadable.
//   - Append rejects an empty batch, an empty Session, a Seq of 0 and an
//     expected revision below 0 with EINVALID; an expected revision ahead of
//     the head is ECONFLICT.
//   - Changes with from < 0 or to < from is EINVALID; from at or beyond the
//     head gives an empty result.
//   - ListNotes with limit < 1 is EINVALID.
//   - RevokeShare of a token already revoked is ENOTFOUND.
//   - Publish with a malformed note id is ENOTFOUND; with a well-formed id
//     of no note it may succeed (no lookup needed) or give ENOTFOUND.
//   - Subscribe to an unknown note is ENOTFOUND.
//   - Stored times keep at least millisecond precision.
//   - A call with an already cancelled context returns the context's error.
//
// Snapshots: the suite checks that loading a note with 100,000 operations
// does not replay its history. A store that implements ReplayCounter is
// checked structurally (it must replay at most MaxReplay operations); any
// other store is checked by comparing load times after 100 and after 100,000
// operations in the same run, as a ratio.
//
// The operations the suite appends are real ot operations (package ot), and
// it checks every text it loads against a replay of the log with ot.Apply.
// Follower and Lossy are exported so that servers can reuse the gap-filling
// logic the suite proves.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// NewStore returns a fresh, open store with an empty namespace, and registers
// its Close with tb.Cleanup.
type NewStore func(tb testing.TB) scribe.Store

// ReplayCounter is implemented by stores that report how many committed
// operations their most recent LoadNote applied on top of a snapshot. The
// suite uses it to prove that loading does not replay the whole history.
type ReplayCounter interface {
	LastLoadReplayed() int
}

// MaxReplay is the most operations a ReplayCounter store may replay in one
// LoadNote: a store passes the suite with a snapshot interval up to this.
const MaxReplay = 1000

// HistoryOps is how many operations the snapshot test commits to one note.
const HistoryOps = 100_000

// waitTimeout bounds every wait for a subscription event. It is a failure
// bound, not a timing assertion: a healthy store delivers in microseconds.
const waitTimeout = 10 * time.Second

// Run runs the conformance suite against the stores newStore returns.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s scribe.Store)
	}{
		{"CreateNote", testCreateNote},
		{"CreateNoteInvalid", testCreateNoteInvalid},
		{"NotFound", testNotFound},
		{"AppendAndLoad", testAppendAndLoad},
		{"AppendUTF16", testAppendUTF16},
		{"AppendConflict", testAppendConflict},
		{"AppendInvalid", testAppendInvalid},
		{"GroupCommit", testGroupCommit},
		{"Dedup", testDedup},
		{"DedupInBatch", testDedupInBatch},
		{"DedupConcurrent", testDedupConcurrent},
		{"LastSeq", testLastSeq},
		{"Changes", testChanges},
		{"ConcurrentAppend", testConcurrentAppend},
		{"SnapshotBoundaries", testSnapshotBoundaries},
		{"LoadAfterLongHistory", testLoadAfterLongHistory},
		{"LargeNote", testLargeNote},
		{"AppendSurrogatePair", testAppendSurrogatePair},
		{"Subscribe", testSubscribe},
		{"SubscribeIsolation", testSubscribeIsolation},
		{"SubscribeEnd", testSubscribeEnd},
		{"CloseEndsSubscriptions", testCloseEndsSubscriptions},
		{"FollowerFillsGaps", testFollowerFillsGaps},
		{"Shares", testShares},
		{"ShareRevoke", testShareRevoke},
		{"ShareMeta", testShareMeta},
		{"UpdateNote", testUpdateNote},
		{"ListNotes", testListNotes},
		{"QueryNotes", testQueryNotes},
		{"QueryNotesBounded", testQueryNotesBounded},
		{"DeleteNote", testDeleteNote},
		{"APITokens", testAPITokens},
		{"APITokenInvalid", testAPITokenInvalid},
		{"APITokenTouch", testAPITokenTouch},
		{"APITokenRevoke", testAPITokenRevoke},
		{"APITokenCanceled", testAPITokenCanceled},
		{"ContextCanceled", testContextCanceled},
		{"Ping", testPing},
	}
	tests = append(tests, historyTests...)
	tests = append(tests, authorsTests...)
	tests = append(tests, attendeesTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// ---- helpers ----

// ChangeOf returns a change carrying op for the given submission, by a
// member whose email is known.
func ChangeOf(session string, seq uint64, op json.RawMessage) scribe.Change {
	return scribe.Change{Op: op, Session: session, Seq: seq, Author: "author " + session, Email: session + "@example.com"}
}

// Len returns the length of s in UTF-16 code units, the unit of ot offsets.
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// EditOp returns the ot.js JSON of the operation that, on doc, deletes del
// code units at pos and inserts ins there. pos and del count UTF-16 code
// units and must not split a surrogate pair.
func EditOp(doc string, pos, del int, ins string) json.RawMessage {
	n := Len(doc)
	var parts []any
	if pos > 0 {
		parts = append(parts, pos)
	}
	if ins != "" {
		parts = append(parts, ins)
	}
	if del > 0 {
		parts = append(parts, -del)
	}
	if rest := n - pos - del; rest > 0 {
		parts = append(parts, rest)
	}
	if parts == nil {
		parts = []any{}
	}
	b, err := json.Marshal(parts)
	if err != nil {
		panic(err) // ints and strings always marshal
	}
	return b
}

// RandomOp returns a random, non-empty edit of doc, which must be ASCII. It
// keeps documents short: past maxLen characters it only deletes.
func RandomOp(rng *rand.Rand, doc string, maxLen int) json.RawMessage {
	n := len(doc)
	pos := rng.IntN(n + 1)
	del := 0
	if n-pos > 0 {
		del = rng.IntN(min(3, n-pos) + 1)
	}
	ins := ""
	if n < maxLen {
		ins = strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(4))
	}
	if del == 0 && ins == "" {
		if n-pos > 0 {
			del = 1
		} else {
			ins = "x"
		}
	}
	return EditOp(doc, pos, del, ins)
}

// Apply applies the ot.js JSON operation op to doc.
func Apply(doc string, op json.RawMessage) (string, error) {
	var o ot.Operation
	if err := json.Unmarshal(op, &o); err != nil {
		return "", fmt.Errorf("decode op %s: %w", op, err)
	}
	return ot.Apply(doc, o)
}

// Replay applies the changes to base in order and returns the text.
func Replay(base string, changes []scribe.Change) (string, error) {
	doc := base
	for _, c := range changes {
		var err error
		if doc, err = Apply(doc, c.Op); err != nil {
			return "", fmt.Errorf("replay revision %d: %w", c.Revision, err)
		}
	}
	return doc, nil
}

// transform returns a transformed over b: a' such that applying b then a'
// equals applying a then b'.
func transform(a, b json.RawMessage) (json.RawMessage, error) {
	var oa, ob ot.Operation
	if err := json.Unmarshal(a, &oa); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &ob); err != nil {
		return nil, err
	}
	a2, _, err := ot.Transform(oa, ob)
	if err != nil {
		return nil, err
	}
	return json.Marshal(a2)
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := scribe.ErrorCode(err); got != code {
		t.Errorf("%s: error code %q (%v), want %s", what, got, err, code)
	}
}

func mustCreate(t *testing.T, s scribe.Store, text string) scribe.Note {
	t.Helper()
	n, err := s.CreateNote(context.Background(), scribe.NewNote{Title: "Test note", Template: "blank", Text: text})
	if err != nil {
		t.Fatalf("CreateNote: %v", err)
	}
	return n
}

func mustAppend(t *testing.T, s scribe.Store, id scribe.NoteID, expected scribe.Revision, cs ...scribe.Change) []scribe.Revision {
	t.Helper()
	revs, err := s.Append(context.Background(), id, expected, cs)
	if err != nil {
		t.Fatalf("Append at %d: %v", expected, err)
	}
	return revs
}

func mustLoad(t *testing.T, s scribe.Store, id scribe.NoteID) scribe.Document {
	t.Helper()
	d, err := s.LoadNote(context.Background(), id)
	if err != nil {
		t.Fatalf("LoadNote: %v", err)
	}
	return d
}

func mustChanges(t *testing.T, s scribe.Store, id scribe.NoteID, from, to scribe.Revision) []scribe.Change {
	t.Helper()
	cs, err := s.Changes(context.Background(), id, from, to)
	if err != nil {
		t.Fatalf("Changes(%d, %d): %v", from, to, err)
	}
	return cs
}

// checkLog asserts that the note's log is revisions 1..head without gaps or
// duplicate submissions, and that replaying it over base gives the loaded text.
func checkLog(t *testing.T, s scribe.Store, id scribe.NoteID, base string) scribe.Document {
	t.Helper()
	d := mustLoad(t, s, id)
	cs := mustChanges(t, s, id, 0, d.Revision)
	if len(cs) != int(d.Revision) {
		t.Fatalf("log has %d changes, head is %d", len(cs), d.Revision)
	}
	seen := map[string]scribe.Revision{}
	for i, c := range cs {
		if c.Revision != scribe.Revision(i+1) {
			t.Fatalf("change %d has revision %d, want %d", i, c.Revision, i+1)
		}
		key := fmt.Sprintf("%s/%d", c.Session, c.Seq)
		if r, dup := seen[key]; dup {
			t.Fatalf("(session, seq) %s appears at revisions %d and %d", key, r, c.Revision)
		}
		seen[key] = c.Revision
	}
	want, err := Replay(base, cs)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != want {
		t.Fatalf("loaded text differs from the replayed log at revision %d:\n loaded %q\n replay %q", d.Revision, d.Text, want)
	}
	return d
}

func approxTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}

// ---- notes ----

func testCreateNote(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	created := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "Stand-up", Template: "meeting", Series: "Platform weekly", Text: "# Stand-up\n", CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	if !n.ID.Valid() {
		t.Errorf("new id %q is not a valid note id", n.ID)
	}
	if n.Title != "Stand-up" || n.Template != "meeting" || n.Series != "Platform weekly" || n.Revision != 0 {
		t.Errorf("created %+v", n)
	}
	if !approxTime(n.CreatedAt, created) || !approxTime(n.UpdatedAt, created) {
		t.Errorf("created at %v, updated at %v; want both %v", n.CreatedAt, n.UpdatedAt, created)
	}
	d := mustLoad(t, s, n.ID)
	if d.Text != "# Stand-up\n" || d.Revision != 0 || d.Title != "Stand-up" || d.Template != "meeting" || d.Series != n.Series || d.ID != n.ID {
		t.Errorf("loaded %+v", d)
	}
	g, err := s.GetNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != n.ID || g.Title != n.Title || g.Series != n.Series || g.Revision != 0 || !approxTime(g.CreatedAt, created) {
		t.Errorf("GetNote %+v, want %+v", g, n)
	}

	// A zero CreatedAt means now; ids are distinct.
	before := time.Now().Add(-time.Second)
	m := mustCreate(t, s, "")
	if m.ID == n.ID {
		t.Errorf("two notes share id %q", m.ID)
	}
	if m.CreatedAt.Before(before) || m.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("zero CreatedAt became %v, want now", m.CreatedAt)
	}
	if d := mustLoad(t, s, m.ID); d.Text != "" || d.Revision != 0 {
		t.Errorf("empty note loaded as %+v", d)
	}
}

func testCreateNoteInvalid(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	for _, nn := range []scribe.NewNote{
		{Title: "bad text", Text: "a\xffb"},
		{Title: "bad title \xff", Text: "ok"},
		{Title: "bad series", Series: "a\nb", Text: "ok"},
		{Title: "long series", Series: strings.Repeat("s", scribe.MaxSeries+1), Text: "ok"},
	} {
		_, err := s.CreateNote(ctx, nn)
		wantCode(t, err, scribe.EINVALID, fmt.Sprintf("CreateNote(%q, %q)", nn.Title, nn.Text))
	}
	ns, err := s.ListNotes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 0 {
		t.Errorf("invalid notes were created: %+v", ns)
	}
}

func testNotFound(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	mustCreate(t, s, "x") // the store is not empty
	op := EditOp("", 0, 0, "a")
	for _, id := range []scribe.NoteID{scribe.NewNoteID(), "", "../../etc/passwd", "short", scribe.NoteID(strings.Repeat("a", 23)), "aaaaaaaaaaaaaaaaaaaa*a"} {
		_, err := s.LoadNote(ctx, id)
		wantCode(t, err, scribe.ENOTFOUND, "LoadNote "+string(id))
		_, err = s.GetNote(ctx, id)
		wantCode(t, err, scribe.ENOTFOUND, "GetNote "+string(id))
		_, err = s.Append(ctx, id, 0, []scribe.Change{ChangeOf("s1", 1, op)})
		wantCode(t, err, scribe.ENOTFOUND, "Append "+string(id))
		_, err = s.Changes(ctx, id, 0, 10)
		wantCode(t, err, scribe.ENOTFOUND, "Changes "+string(id))
		_, _, err = s.LastSeq(ctx, id, "s1")
		wantCode(t, err, scribe.ENOTFOUND, "LastSeq "+string(id))
		sub, err := s.Subscribe(ctx, id)
		wantCode(t, err, scribe.ENOTFOUND, "Subscribe "+string(id))
		if sub != nil {
			sub.Close()
		}
		// Publish need not look a well-formed id up (presence is frequent
		// and harmless), but a malformed one never reaches a key.
		if err = s.Publish(ctx, id, []byte("hi")); !id.Valid() || err != nil {
			wantCode(t, err, scribe.ENOTFOUND, "Publish "+string(id))
		}
		_, err = s.CreateShare(ctx, id)
		wantCode(t, err, scribe.ENOTFOUND, "CreateShare "+string(id))
		_, err = s.ListShares(ctx, id)
		wantCode(t, err, scribe.ENOTFOUND, "ListShares "+string(id))
	}
	for _, tok := range []scribe.Token{scribe.NewToken(), "", "../x", scribe.Token(strings.Repeat("b", 40))} {
		_, err := s.ResolveShare(ctx, tok)
		wantCode(t, err, scribe.ENOTFOUND, "ResolveShare "+string(tok))
		err = s.RevokeShare(ctx, tok)
		wantCode(t, err, scribe.ENOTFOUND, "RevokeShare "+string(tok))
	}
}

// ---- append ----

func testAppendAndLoad(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "hello")
	start := time.Now().Add(-time.Second)
	doc := "hello"
	ops := []struct {
		pos, del int
		ins      string
	}{{5, 0, " world"}, {0, 1, "H"}, {11, 0, "!"}, {5, 6, ""}}
	for i, o := range ops {
		op := EditOp(doc, o.pos, o.del, o.ins)
		revs := mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("sess-a", uint64(i+1), op))
		if len(revs) != 1 || revs[0] != scribe.Revision(i+1) {
			t.Fatalf("append %d got revisions %v, want [%d]", i, revs, i+1)
		}
		var err error
		if doc, err = Apply(doc, op); err != nil {
			t.Fatal(err)
		}
		d := mustLoad(t, s, n.ID)
		if d.Text != doc || d.Revision != scribe.Revision(i+1) {
			t.Fatalf("after append %d loaded %q at %d, want %q at %d", i, d.Text, d.Revision, doc, i+1)
		}
	}
	if doc != "Hello!" {
		t.Fatalf("test ops produced %q", doc)
	}
	d := mustLoad(t, s, n.ID)
	if d.UpdatedAt.Before(start) || d.UpdatedAt.Before(d.CreatedAt) {
		t.Errorf("UpdatedAt %v not after the edit started (%v)", d.UpdatedAt, start)
	}
	g, err := s.GetNote(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Revision != 4 || !approxTime(g.UpdatedAt, d.UpdatedAt) {
		t.Errorf("GetNote %+v, LoadNote %+v", g, d.Note)
	}
	cs := mustChanges(t, s, n.ID, 0, 4)
	if len(cs) != 4 {
		t.Fatalf("Changes returned %d changes, want 4", len(cs))
	}
	for i, c := range cs {
		if c.Session != "sess-a" || c.Seq != uint64(i+1) || c.Author != "author sess-a" || c.Email != "sess-a@example.com" || c.Revision != scribe.Revision(i+1) {
			t.Errorf("change %d: %+v", i, c)
		}
		if c.Time.Before(start) || c.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("change %d time %v, want about now", i, c.Time)
		}
		if i > 0 && c.Time.Before(cs[i-1].Time) {
			t.Errorf("change %d committed at %v, before change %d at %v", i, c.Time, i-1, cs[i-1].Time)
		}
	}
	checkLog(t, s, n.ID, "hello")
}

func testAppendUTF16(t *testing.T, s scribe.Store) {
	// "a😀b" is 4 UTF-16 code units: the emoji is a surrogate pair.
	n := mustCreate(t, s, "a😀b")
	if _, err := s.Append(context.Background(), n.ID, 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[3,"x"]`))}); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("op of base length 3 on a 4-unit text: %v, want EINVALID", err)
	}
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, json.RawMessage(`[4,"é😀"]`)))
	mustAppend(t, s, n.ID, 1, ChangeOf("s", 2, json.RawMessage(`[1,-2,4]`)))
	d := checkLog(t, s, n.ID, "a😀b")
	if d.Text != "abé😀" {
		t.Errorf("text %q, want %q", d.Text, "abé😀")
	}
}

func testAppendConflict(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "abc")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("abc", 3, 0, "d")))
	for _, expected := range []scribe.Revision{0, 2, 100} {
		_, err := s.Append(ctx, n.ID, expected, []scribe.Change{ChangeOf("t", 1, EditOp("abc", 0, 0, "z"))})
		wantCode(t, err, scribe.ECONFLICT, fmt.Sprintf("Append at %d with head 1", expected))
	}
	d := checkLog(t, s, n.ID, "abc")
	if d.Revision != 1 || d.Text != "abcd" {
		t.Errorf("after conflicts: %q at %d, want %q at 1", d.Text, d.Revision, "abcd")
	}
	if seq, rev, err := s.LastSeq(ctx, n.ID, "t"); err != nil || seq != 0 || rev != 0 {
		t.Errorf("LastSeq of a session whose appends conflicted: %d, %d, %v", seq, rev, err)
	}
}

func testAppendInvalid(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "abc")
	good := EditOp("abc", 3, 0, "d")
	cases := []struct {
		name     string
		expected scribe.Revision
		changes  []scribe.Change
	}{
		{"empty batch", 0, nil},
		{"negative expected", -1, []scribe.Change{ChangeOf("s", 1, good)}},
		{"empty session", 0, []scribe.Change{ChangeOf("", 1, good)}},
		{"seq 0", 0, []scribe.Change{ChangeOf("s", 0, good)}},
		{"op not JSON", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[3,"d"`))}},
		{"op missing", 0, []scribe.Change{ChangeOf("s", 1, nil)}},
		{"op an object", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`{"retain":3}`))}},
		{"op with a zero", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[0,3,"d"]`))}},
		{"op with a float", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[1.5,"d"]`))}},
		{"op too short", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[2,"d"]`))}},
		{"op too long", 0, []scribe.Change{ChangeOf("s", 1, json.RawMessage(`[4,"d"]`))}},
		{"second op does not follow the first", 0, []scribe.Change{ChangeOf("s", 1, good), ChangeOf("s", 2, good)}},
		{"bad op after a good one", 0, []scribe.Change{ChangeOf("s", 1, good), ChangeOf("s", 2, json.RawMessage(`"x"`))}},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, n.ID, c.expected, c.changes)
		wantCode(t, err, scribe.EINVALID, c.name)
	}
	d := checkLog(t, s, n.ID, "abc")
	if d.Revision != 0 || d.Text != "abc" {
		t.Errorf("invalid appends changed the note: %q at %d", d.Text, d.Revision)
	}
	if seq, _, _ := s.LastSeq(ctx, n.ID, "s"); seq != 0 {
		t.Errorf("invalid appends recorded seq %d", seq)
	}
	// The note still takes valid changes after all that.
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, good))
	checkLog(t, s, n.ID, "abc")
}

func testGroupCommit(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	doc := ""
	var batch []scribe.Change
	for i := range 5 {
		op := EditOp(doc, Len(doc), 0, fmt.Sprint(i))
		batch = append(batch, ChangeOf(fmt.Sprintf("s%d", i%2), uint64(i/2+1), op))
		doc, _ = Apply(doc, op)
	}
	revs := mustAppend(t, s, n.ID, 0, batch...)
	if !slices.Equal(revs, []scribe.Revision{1, 2, 3, 4, 5}) {
		t.Errorf("batch of 5 got revisions %v", revs)
	}
	d := checkLog(t, s, n.ID, "")
	if d.Text != "01234" {
		t.Errorf("text %q, want 01234", d.Text)
	}
	cs := mustChanges(t, s, n.ID, 0, 5)
	for i, c := range cs {
		if !c.Time.Equal(cs[0].Time) && c.Time.Before(cs[0].Time) {
			t.Errorf("change %d of one batch committed before the first", i)
		}
	}
	// A batch whose third change is invalid writes nothing at all.
	_, err := s.Append(context.Background(), n.ID, 5, []scribe.Change{
		ChangeOf("s9", 1, EditOp(doc, 0, 0, "a")),
		ChangeOf("s9", 2, EditOp("a"+doc, 0, 0, "b")),
		ChangeOf("s9", 3, EditOp(doc, 0, 0, "c")), // based on the wrong text
	})
	wantCode(t, err, scribe.EINVALID, "batch with an invalid third change")
	if d := checkLog(t, s, n.ID, ""); d.Revision != 5 {
		t.Errorf("a failed batch moved the head to %d", d.Revision)
	}
	// The store holds no trace of the failed batch's first two changes.
	mustAppend(t, s, n.ID, 5, ChangeOf("s9", 1, EditOp(doc, 5, 0, "!")))
	if d := checkLog(t, s, n.ID, ""); d.Text != "01234!" {
		t.Errorf("after a failed batch and a good one: %q, want %q", d.Text, "01234!")
	}
}

func testDedup(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	op1 := EditOp("", 0, 0, "a")
	mustAppend(t, s, n.ID, 0, ChangeOf("alice", 1, op1))
	op2 := EditOp("a", 1, 0, "b")
	mustAppend(t, s, n.ID, 1, ChangeOf("bob", 1, op2))

	// alice resends seq 1 (transformed over bob's op, so the op differs).
	resend := EditOp("ab", 0, 0, "a")
	revs := mustAppend(t, s, n.ID, 2, ChangeOf("alice", 1, resend))
	if !slices.Equal(revs, []scribe.Revision{1}) {
		t.Errorf("resent (alice, 1) got %v, want [1]", revs)
	}
	if d := checkLog(t, s, n.ID, ""); d.Revision != 2 || d.Text != "ab" {
		t.Errorf("after resend: %q at %d, want %q at 2", d.Text, d.Revision, "ab")
	}

	// A batch mixing a duplicate and new changes: the new ones follow the
	// head as if the duplicate were absent.
	op3 := EditOp("ab", 2, 0, "c")
	op4 := EditOp("abc", 3, 0, "d")
	revs = mustAppend(t, s, n.ID, 2, ChangeOf("alice", 2, op3), ChangeOf("bob", 1, op2), ChangeOf("alice", 3, op4))
	if !slices.Equal(revs, []scribe.Revision{3, 2, 4}) {
		t.Errorf("mixed batch got %v, want [3 2 4]", revs)
	}
	d := checkLog(t, s, n.ID, "")
	if d.Revision != 4 || d.Text != "abcd" {
		t.Errorf("after mixed batch: %q at %d", d.Text, d.Revision)
	}
	// An all-duplicate batch writes nothing and does not touch UpdatedAt.
	revs = mustAppend(t, s, n.ID, 4, ChangeOf("alice", 3, op4), ChangeOf("alice", 1, op1))
	if !slices.Equal(revs, []scribe.Revision{4, 1}) {
		t.Errorf("all-duplicate batch got %v, want [4 1]", revs)
	}
	if g, _ := s.GetNote(ctx, n.ID); g.Revision != 4 || !approxTime(g.UpdatedAt, d.UpdatedAt) {
		t.Errorf("all-duplicate batch changed the note: %+v", g)
	}
	// The same seq in another session is a different submission.
	mustAppend(t, s, n.ID, 4, ChangeOf("carol", 1, EditOp("abcd", 0, 0, "_")))
	checkLog(t, s, n.ID, "")
}

func testDedupInBatch(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	op := EditOp("", 0, 0, "a")
	revs := mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, op), ChangeOf("s", 1, op), ChangeOf("s", 2, EditOp("a", 1, 0, "b")))
	if !slices.Equal(revs, []scribe.Revision{1, 1, 2}) {
		t.Errorf("batch repeating (s, 1) got %v, want [1 1 2]", revs)
	}
	if d := checkLog(t, s, n.ID, ""); d.Text != "ab" {
		t.Errorf("text %q, want ab", d.Text)
	}
}

// testDedupConcurrent has 8 goroutines submit the same (session, seq) at
// once, each retrying on conflict at the new head: it is written once, and
// every goroutine learns the revision it got.
func testDedupConcurrent(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "base")
	c := ChangeOf("tab-1", 7, EditOp("base", 4, 0, "!"))
	var wg sync.WaitGroup
	revs := make([]scribe.Revision, 8)
	errs := make([]error, 8)
	for g := range 8 {
		wg.Go(func() {
			expected := scribe.Revision(0)
			for range 100 {
				r, err := s.Append(ctx, n.ID, expected, []scribe.Change{c})
				if scribe.ErrorCode(err) == scribe.ECONFLICT {
					note, err := s.GetNote(ctx, n.ID)
					if err != nil {
						errs[g] = err
						return
					}
					expected = note.Revision
					continue
				}
				if err != nil {
					errs[g] = err
					return
				}
				revs[g] = r[0]
				return
			}
			errs[g] = errors.New("no success after 100 conflicts")
		})
	}
	wg.Wait()
	for g := range 8 {
		if errs[g] != nil || revs[g] != 1 {
			t.Errorf("goroutine %d: revision %d, error %v; want revision 1", g, revs[g], errs[g])
		}
	}
	if d := checkLog(t, s, n.ID, "base"); d.Revision != 1 || d.Text != "base!" {
		t.Errorf("after concurrent resends: %q at %d", d.Text, d.Revision)
	}
}

func testLastSeq(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	other := mustCreate(t, s, "")
	doc := ""
	subs := []struct {
		session string
		seq     uint64
	}{{"a", 1}, {"b", 1}, {"a", 2}, {"a", 3}, {"b", 5}, {"ab", 9}, {"a-", 4}}
	for i, sub := range subs {
		op := EditOp(doc, 0, 0, "x")
		mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf(sub.session, sub.seq, op))
		doc, _ = Apply(doc, op)
	}
	for _, w := range []struct {
		session string
		seq     uint64
		rev     scribe.Revision
	}{{"a", 3, 4}, {"b", 5, 5}, {"ab", 9, 6}, {"a-", 4, 7}, {"c", 0, 0}, {"", 0, 0}} {
		seq, rev, err := s.LastSeq(ctx, n.ID, w.session)
		if err != nil || seq != w.seq || rev != w.rev {
			t.Errorf("LastSeq(%q) = %d, %d, %v; want %d, %d", w.session, seq, rev, err, w.seq, w.rev)
		}
	}
	if seq, rev, err := s.LastSeq(ctx, other.ID, "a"); err != nil || seq != 0 || rev != 0 {
		t.Errorf("LastSeq on another note = %d, %d, %v; want 0, 0", seq, rev, err)
	}
}

func testChanges(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	doc := ""
	for i := range 10 {
		op := EditOp(doc, Len(doc), 0, fmt.Sprint(i))
		mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("s", uint64(i+1), op))
		doc, _ = Apply(doc, op)
	}
	for _, r := range []struct{ from, to, first, last scribe.Revision }{
		{0, 10, 1, 10}, {3, 5, 4, 5}, {9, 10, 10, 10}, {0, 1000, 1, 10}, {4, 4, 0, -1}, {10, 12, 0, -1}, {20, 30, 0, -1},
	} {
		cs := mustChanges(t, s, n.ID, r.from, r.to)
		if want := int(r.last - r.first + 1); len(cs) != want {
			t.Errorf("Changes(%d, %d) gave %d changes, want %d", r.from, r.to, len(cs), want)
			continue
		}
		for i, c := range cs {
			if c.Revision != r.first+scribe.Revision(i) || c.Seq != uint64(c.Revision) {
				t.Errorf("Changes(%d, %d)[%d] = rev %d seq %d", r.from, r.to, i, c.Revision, c.Seq)
			}
		}
	}
	for _, r := range [][2]scribe.Revision{{-1, 5}, {5, 4}} {
		_, err := s.Changes(ctx, n.ID, r[0], r[1])
		wantCode(t, err, scribe.EINVALID, fmt.Sprintf("Changes(%d, %d)", r[0], r[1]))
	}
}

// testConcurrentAppend runs 8 writers on one note, each transforming its op
// over what others committed and retrying on ECONFLICT, as server nodes do.
func testConcurrentAppend(t *testing.T, s scribe.Store) {
	base := "The quick brown fox jumps over the lazy dog."
	n := mustCreate(t, s, base)
	runWriters(t, []scribe.Store{s}, n.ID, base, 8, 30)
}

// runWriters has writers goroutines, spread over nodes, each commit
// perWriter random edits to the note, transforming over what the others
// committed and retrying on ECONFLICT. It then checks the log and that every
// writer's view, caught up, equals the stored text.
func runWriters(t *testing.T, nodes []scribe.Store, id scribe.NoteID, base string, writers, perWriter int) {
	t.Helper()
	ctx := context.Background()
	s := nodes[0]
	n := scribe.Note{ID: id}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	finals := make([]scribe.Document, writers)
	for w := range writers {
		wg.Go(func() {
			s := nodes[w%len(nodes)]
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			session := fmt.Sprintf("writer-%d", w)
			rev, doc := scribe.Revision(0), base
			for seq := uint64(1); seq <= uint64(perWriter); seq++ {
				op := RandomOp(rng, doc, 200)
				for attempt := 0; ; attempt++ {
					if attempt > 10_000 {
						errs <- fmt.Errorf("%s: seq %d still conflicting", session, seq)
						return
					}
					revs, err := s.Append(ctx, n.ID, rev, []scribe.Change{ChangeOf(session, seq, op)})
					if err == nil {
						if revs[0] != rev+1 {
							errs <- fmt.Errorf("%s: appended at %d, got revision %d", session, rev, revs[0])
							return
						}
						if doc, err = Apply(doc, op); err != nil {
							errs <- err
							return
						}
						rev = revs[0]
						break
					}
					if scribe.ErrorCode(err) != scribe.ECONFLICT {
						errs <- fmt.Errorf("%s: append: %w", session, err)
						return
					}
					// Catch up: transform op over every change committed since rev.
					missed, err := s.Changes(ctx, n.ID, rev, rev+1000)
					if err != nil {
						errs <- err
						return
					}
					if len(missed) == 0 {
						errs <- fmt.Errorf("%s: conflict at %d but no changes after it", session, rev)
						return
					}
					for _, c := range missed {
						if c.Revision != rev+1 {
							errs <- fmt.Errorf("%s: gap: expected revision %d, got %d", session, rev+1, c.Revision)
							return
						}
						if op, err = transform(op, c.Op); err != nil {
							errs <- fmt.Errorf("%s: transform: %w", session, err)
							return
						}
						if doc, err = Apply(doc, c.Op); err != nil {
							errs <- fmt.Errorf("%s: apply revision %d: %w", session, c.Revision, err)
							return
						}
						rev = c.Revision
					}
				}
			}
			finals[w] = scribe.Document{Note: scribe.Note{Revision: rev}, Text: doc}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	d := checkLog(t, s, n.ID, base)
	if d.Revision != scribe.Revision(writers*perWriter) {
		t.Errorf("head %d, want %d", d.Revision, writers*perWriter)
	}
	for w, f := range finals {
		// Each writer catches up with what the others committed after it
		// finished, and then sees the store's text.
		rest := mustChanges(t, s, n.ID, f.Revision, d.Revision)
		text, err := Replay(f.Text, rest)
		if err != nil {
			t.Fatal(err)
		}
		f.Text, f.Revision = text, f.Revision+scribe.Revision(len(rest))
		if f.Revision != d.Revision || f.Text != d.Text {
			t.Errorf("writer %d ended at %d with %q; store has %q at %d", w, f.Revision, f.Text, d.Text, d.Revision)
		}
	}
	for w := range writers {
		seq, _, err := s.LastSeq(ctx, n.ID, fmt.Sprintf("writer-%d", w))
		if err != nil || seq != uint64(perWriter) {
			t.Errorf("writer %d: LastSeq %d, %v; want %d", w, seq, err, perWriter)
		}
	}
}

// ---- snapshots ----

// testSnapshotBoundaries appends batches of uneven sizes, so that appends
// cross snapshot boundaries at every offset, and checks each load.
func testSnapshotBoundaries(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "start")
	rng := rand.New(rand.NewPCG(7, 7))
	doc, rev, seq := "start", scribe.Revision(0), uint64(0)
	for _, size := range []int{1, 7, 99, 100, 1, 250, 3, 97, 200, 13, 1, 1, 330} {
		batch := make([]scribe.Change, size)
		next := doc
		for i := range batch {
			seq++
			op := RandomOp(rng, next, 300)
			batch[i] = ChangeOf("s", seq, op)
			next, _ = Apply(next, op)
		}
		revs := mustAppend(t, s, n.ID, rev, batch...)
		rev += scribe.Revision(size)
		if revs[len(revs)-1] != rev {
			t.Fatalf("batch of %d ended at revision %d, want %d", size, revs[len(revs)-1], rev)
		}
		doc = next
		d := mustLoad(t, s, n.ID)
		if d.Text != doc || d.Revision != rev {
			t.Fatalf("at revision %d loaded %q at %d, want %q", rev, d.Text, d.Revision, doc)
		}
	}
	checkLog(t, s, n.ID, "start")
}

// testLargeNote edits a 256 KiB note with emoji in it, across snapshot
// boundaries, and checks every load against the replay.
func testLargeNote(t *testing.T, s scribe.Store) {
	base := strings.Repeat("Lorem ipsum 😀 dolor sit amet, ", 256<<10/34)
	n := mustCreate(t, s, base)
	rng := rand.New(rand.NewPCG(5, 5))
	doc, rev, seq := base, scribe.Revision(0), uint64(0)
	for _, size := range []int{1, 150, 2, 99, 120} {
		batch := make([]scribe.Change, size)
		next := doc
		for i := range batch {
			seq++
			op := EditOp(next, pairSafe(next, rng.IntN(Len(next)+1)), 0, fmt.Sprintf("[%d]", seq))
			batch[i] = ChangeOf("big", seq, op)
			next, _ = Apply(next, op)
		}
		mustAppend(t, s, n.ID, rev, batch...)
		rev += scribe.Revision(size)
		doc = next
		if d := mustLoad(t, s, n.ID); d.Text != doc || d.Revision != rev {
			t.Fatalf("at revision %d the loaded text differs from the replay (lengths %d, %d)", rev, Len(d.Text), Len(doc))
		}
	}
}

// testAppendSurrogatePair appends ops whose base length is right but whose
// boundaries fall inside the emoji's surrogate pair: none can be applied to
// the text, so each is EINVALID and nothing is written. A store that checked
// only base lengths would log them, and the note would never load again.
func testAppendSurrogatePair(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "a😀b") // units: a, high, low, b
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("a😀b", 4, 0, "c")))
	for _, c := range []struct {
		name    string
		changes []scribe.Change
	}{
		{"insert between the halves", []scribe.Change{ChangeOf("s", 2, json.RawMessage(`[2,"x",3]`))}},
		{"delete the high half", []scribe.Change{ChangeOf("s", 2, json.RawMessage(`[1,-1,3]`))}},
		{"delete the low half", []scribe.Change{ChangeOf("s", 2, json.RawMessage(`[2,-1,2]`))}},
		{"second op of a batch splits", []scribe.Change{
			ChangeOf("s", 2, json.RawMessage(`["z",5]`)),
			ChangeOf("s", 3, json.RawMessage(`[3,"x",3]`)),
		}},
	} {
		_, err := s.Append(ctx, n.ID, 1, c.changes)
		if scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("%s: Append gave %v, want EINVALID: Append must apply new ops to the text, not only check their base length", c.name, err)
		}
	}
	d, err := s.LoadNote(ctx, n.ID)
	if err != nil {
		t.Fatalf("after appends that split a surrogate pair the note does not load: %v", err)
	}
	if d.Text != "a😀bc" || d.Revision != 1 {
		t.Errorf("after rejected appends: %q at %d, want %q at 1", d.Text, d.Revision, "a😀bc")
	}
	// The note takes valid edits around the emoji afterwards.
	mustAppend(t, s, n.ID, 1, ChangeOf("s", 2, json.RawMessage(`[1,-2,2]`)))
	if d := checkLog(t, s, n.ID, "a😀b"); d.Text != "abc" {
		t.Errorf("text %q, want abc", d.Text)
	}
}

// pairSafe moves pos forward by one if it falls inside a surrogate pair of doc.
func pairSafe(doc string, pos int) int {
	u := utf16.Encode([]rune(doc))
	if pos > 0 && pos < len(u) && u[pos-1] >= 0xD800 && u[pos-1] < 0xDC00 {
		return pos + 1
	}
	return pos
}

// buildHistory commits ops operations to a new note in batches of 1,000 and
// returns the note and its expected text.
func buildHistory(t *testing.T, s scribe.Store, ops int) (scribe.Note, string) {
	t.Helper()
	n := mustCreate(t, s, "history")
	rng := rand.New(rand.NewPCG(uint64(ops), 1))
	doc, rev := "history", scribe.Revision(0)
	for rev < scribe.Revision(ops) {
		size := min(1000, ops-int(rev))
		batch := make([]scribe.Change, size)
		for i := range batch {
			op := RandomOp(rng, doc, 100)
			batch[i] = ChangeOf("bulk", uint64(rev)+uint64(i)+1, op)
			var err error
			if doc, err = Apply(doc, op); err != nil {
				t.Fatal(err)
			}
		}
		mustAppend(t, s, n.ID, rev, batch...)
		rev += scribe.Revision(size)
	}
	return n, doc
}

func testLoadAfterLongHistory(t *testing.T, s scribe.Store) {
	n, doc := buildHistory(t, s, HistoryOps)
	d := mustLoad(t, s, n.ID)
	if d.Revision != HistoryOps || d.Text != doc {
		t.Fatalf("after %d ops loaded %q at %d, want %q", HistoryOps, d.Text, d.Revision, doc)
	}
	if rc, ok := s.(ReplayCounter); ok {
		if r := rc.LastLoadReplayed(); r > MaxReplay || r < 0 {
			t.Errorf("LoadNote after %d ops replayed %d ops, want at most %d (a snapshot)", HistoryOps, r, MaxReplay)
		}
		// The replay count is real: a load of a short history replays it.
		short := mustCreate(t, s, "")
		mustAppend(t, s, short.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "a")), ChangeOf("s", 2, EditOp("a", 1, 0, "b")))
		mustLoad(t, s, short.ID)
		if r := rc.LastLoadReplayed(); r != 2 && r != 0 {
			t.Errorf("LoadNote of a 2-op note replayed %d ops, want 2 (or 0 with a snapshot at the head)", r)
		}
		return
	}
	// No replay counter: compare load times after 100 ops and after
	// HistoryOps ops, in the same run. Without snapshots the ratio is in the
	// thousands; with them, about 1.
	small, _ := buildHistory(t, s, 100)
	ratio := float64(medianLoad(t, s, n.ID)) / float64(medianLoad(t, s, small.ID))
	t.Logf("load after %d ops takes %.1fx the load after 100 ops", HistoryOps, ratio)
	if ratio > 20 {
		t.Errorf("loading after %d ops takes %.1fx as long as after 100 ops; want < 20x (snapshots)", HistoryOps, ratio)
	}
}

func medianLoad(t *testing.T, s scribe.Store, id scribe.NoteID) time.Duration {
	var ds []time.Duration
	for range 15 {
		start := time.Now()
		mustLoad(t, s, id)
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// ---- subscriptions ----

func nextEvent(t *testing.T, events <-chan scribe.Event) scribe.Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("subscription ended early")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("no event within the wait bound")
	}
	return scribe.Event{}
}

func waitClosed(t *testing.T, events <-chan scribe.Event, what string) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: events channel not closed", what)
		}
	}
}

func testSubscribe(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	sub, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub2, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()

	op1, op2, op3 := EditOp("", 0, 0, "a"), EditOp("a", 1, 0, "b"), EditOp("ab", 2, 0, "c")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, op1))
	mustAppend(t, s, n.ID, 1, ChangeOf("s", 2, op2), ChangeOf("s", 3, op3))
	if err := s.Publish(ctx, n.ID, []byte(`{"presence":1}`)); err != nil {
		t.Fatal(err)
	}
	for i, events := range []<-chan scribe.Event{sub.Events(), sub2.Events()} {
		next := scribe.Revision(1)
		gotMsg := false
		for next <= 3 || !gotMsg {
			ev := nextEvent(t, events)
			switch {
			case ev.Change != nil && ev.Message != nil:
				t.Fatalf("subscriber %d: event with both a change and a message", i)
			case ev.Change != nil:
				c := ev.Change
				if c.Revision < next {
					continue // a repeat is allowed
				}
				if c.Revision != next {
					t.Fatalf("subscriber %d: got revision %d, want %d (no drops expected at this load)", i, c.Revision, next)
				}
				want := []json.RawMessage{op1, op2, op3}[next-1]
				if !jsonEqual(c.Op, want) || c.Session != "s" || c.Seq != uint64(next) || c.Author != "author s" || c.Time.IsZero() {
					t.Errorf("subscriber %d: change %+v, want op %s", i, c, want)
				}
				next++
			case ev.Message != nil:
				if string(ev.Message) != `{"presence":1}` {
					t.Errorf("subscriber %d: message %q", i, ev.Message)
				}
				gotMsg = true
			default:
				t.Fatalf("subscriber %d: empty event", i)
			}
		}
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// testSubscribeIsolation checks that a subscriber hears only its own note.
func testSubscribeIsolation(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	a, b := mustCreate(t, s, ""), mustCreate(t, s, "")
	sub, err := s.Subscribe(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	mustAppend(t, s, b.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "b")))
	if err := s.Publish(ctx, b.ID, []byte("for b")); err != nil {
		t.Fatal(err)
	}
	// A marker on a: everything before it for b must not arrive.
	mustAppend(t, s, a.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "a")))
	for {
		ev := nextEvent(t, sub.Events())
		if ev.Message != nil {
			t.Fatalf("subscriber of a got message %q", ev.Message)
		}
		if ev.Change != nil && ev.Change.Revision == 1 {
			if !jsonEqual(ev.Change.Op, EditOp("", 0, 0, "a")) {
				t.Fatalf("subscriber of a got change %s", ev.Change.Op)
			}
			return
		}
	}
}

func testSubscribeEnd(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	sub, err := s.Subscribe(context.Background(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	waitClosed(t, sub.Events(), "after Subscription.Close")
	sub.Close() // a second Close is harmless

	ctx, cancel := context.WithCancel(context.Background())
	sub, err = s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	cancel()
	waitClosed(t, sub.Events(), "after the context was cancelled")

	// Appends and publishes with ended subscriptions around still work.
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "a")))
	if err := s.Publish(context.Background(), n.ID, []byte("x")); err != nil {
		t.Error(err)
	}
}

func testCloseEndsSubscriptions(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	sub, err := s.Subscribe(context.Background(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, sub.Events(), "after Store.Close")
	sub.Close()
}

// testFollowerFillsGaps commits revisions one by one while a subscriber that
// loses every 3rd event and repeats every 5th follows along: the Follower
// still yields every revision exactly once, in order, equal to the log.
func testFollowerFillsGaps(t *testing.T, s scribe.Store) {
	const total = 60
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := mustCreate(t, s, "")
	raw, err := s.Subscribe(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	lossy := Lossy(raw, 3, 5)
	defer lossy.Close()
	f := NewFollower(s, n.ID, lossy, 0)

	writeErr := make(chan error, 1)
	go func() {
		doc := ""
		rng := rand.New(rand.NewPCG(3, 3))
		for i := range total {
			op := RandomOp(rng, doc, 50)
			if _, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{ChangeOf("w", uint64(i+1), op)}); err != nil {
				writeErr <- err
				return
			}
			doc, _ = Apply(doc, op)
			if i%10 == 0 {
				_ = s.Publish(ctx, n.ID, []byte("presence"))
			}
		}
		writeErr <- nil
	}()
	var got []scribe.Change
	for len(got) < total {
		ev, err := f.Next(ctx)
		if err != nil {
			t.Fatalf("Follower.Next after %d changes: %v", len(got), err)
		}
		if ev.Change != nil {
			got = append(got, *ev.Change)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	log := mustChanges(t, s, n.ID, 0, total)
	for i, c := range got {
		if c.Revision != scribe.Revision(i+1) {
			t.Fatalf("follower yielded revision %d at position %d", c.Revision, i)
		}
		if !jsonEqual(c.Op, log[i].Op) || c.Seq != log[i].Seq {
			t.Errorf("follower's revision %d differs from the log", c.Revision)
		}
	}
	if d := lossy.(*lossySub).dropped.Load(); d == 0 {
		t.Errorf("the lossy subscription dropped nothing; the test proves nothing")
	}
	// Nothing more arrives: no repeats after the end.
	quiet, qcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer qcancel()
	for {
		ev, err := f.Next(quiet)
		if err != nil {
			break
		}
		if ev.Change != nil {
			t.Fatalf("follower yielded revision %d after the last one", ev.Change.Revision)
		}
	}
}

// ---- shares ----

func testShares(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "secret plans")
	other := mustCreate(t, s, "")
	var made []scribe.Share
	for i := range 3 {
		sh, err := s.CreateShare(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sh.Token.Valid() || string(sh.Token) == string(n.ID) || sh.NoteID != n.ID || sh.CreatedAt.IsZero() {
			t.Errorf("share %d: %+v", i, sh)
		}
		made = append(made, sh)
		time.Sleep(2 * time.Millisecond) // distinct creation times, for the order
	}
	if _, err := s.CreateShare(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	for _, sh := range made {
		got, err := s.ResolveShare(ctx, sh.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token != sh.Token || got.NoteID != n.ID || !approxTime(got.CreatedAt, sh.CreatedAt) {
			t.Errorf("ResolveShare = %+v, want %+v", got, sh)
		}
	}
	list, err := s.ListShares(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("ListShares gave %d shares, want 3", len(list))
	}
	for i, sh := range list {
		if sh.Token != made[i].Token || sh.NoteID != n.ID {
			t.Errorf("ListShares[%d] = %+v, want %+v (oldest first)", i, sh, made[i])
		}
	}
	if b, _ := json.Marshal(list); strings.Contains(string(b), string(n.ID)) {
		t.Errorf("a share's JSON reveals the note id: %s", b)
	}
	if list, _ := s.ListShares(ctx, mustCreate(t, s, "").ID); len(list) != 0 {
		t.Errorf("a new note has shares: %+v", list)
	}
}

func testShareRevoke(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	keep, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeShare(ctx, gone.Token); err != nil {
		t.Fatal(err)
	}
	// At once: no wait between revoke and resolve.
	_, err = s.ResolveShare(ctx, gone.Token)
	wantCode(t, err, scribe.ENOTFOUND, "ResolveShare of a revoked token")
	wantCode(t, s.RevokeShare(ctx, gone.Token), scribe.ENOTFOUND, "second RevokeShare")
	if _, err := s.ResolveShare(ctx, keep.Token); err != nil {
		t.Errorf("revoking one token broke another: %v", err)
	}
	list, err := s.ListShares(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Token != keep.Token {
		t.Errorf("ListShares after revoke = %+v, want only %s", list, keep.Token)
	}
}

// ---- listing ----

func testListNotes(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	if ns, err := s.ListNotes(ctx, 10); err != nil || len(ns) != 0 {
		t.Fatalf("empty store lists %v, %v", ns, err)
	}
	var notes []scribe.Note
	for i := range 4 {
		n, err := s.CreateNote(ctx, scribe.NewNote{Title: fmt.Sprintf("note %d", i), Text: ""})
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
		time.Sleep(2 * time.Millisecond) // distinct times, for the order
	}
	mustAppend(t, s, notes[1].ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "x")))
	titles := func(ns []scribe.Note) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Title)
		}
		return out
	}
	ns, err := s.ListNotes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"note 1", "note 3", "note 2", "note 0"}; !slices.Equal(titles(ns), want) {
		t.Fatalf("ListNotes = %v, want %v", titles(ns), want)
	}
	if ns[0].Revision != 1 || ns[0].ID != notes[1].ID || !ns[0].UpdatedAt.After(notes[3].UpdatedAt) {
		t.Errorf("edited note listed as %+v", ns[0])
	}
	if ns[1].Revision != 0 || !approxTime(ns[1].UpdatedAt, notes[3].CreatedAt) {
		t.Errorf("unedited note listed as %+v", ns[1])
	}
	ns, err = s.ListNotes(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"note 1", "note 3"}; !slices.Equal(titles(ns), want) {
		t.Errorf("ListNotes(2) = %v, want %v", titles(ns), want)
	}
	// Editing again moves a note to the top; a duplicate does not.
	mustAppend(t, s, notes[0].ID, 0, ChangeOf("s", 1, EditOp("", 0, 0, "y")))
	mustAppend(t, s, notes[1].ID, 1, ChangeOf("s", 1, EditOp("x", 0, 0, "z")))
	ns, _ = s.ListNotes(ctx, 10)
	if want := []string{"note 0", "note 1", "note 3", "note 2"}; !slices.Equal(titles(ns), want) {
		t.Errorf("after more edits ListNotes = %v, want %v", titles(ns), want)
	}
	for _, limit := range []int{0, -1} {
		_, err := s.ListNotes(ctx, limit)
		wantCode(t, err, scribe.EINVALID, fmt.Sprintf("ListNotes(%d)", limit))
	}
}

// ---- context and health ----

func testContextCanceled(t *testing.T, s scribe.Store) {
	n := mustCreate(t, s, "")
	sh, err := s.CreateShare(context.Background(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	op := EditOp("", 0, 0, "a")
	calls := map[string]func() error{
		"CreateNote": func() error { _, err := s.CreateNote(ctx, scribe.NewNote{Title: "x"}); return err },
		"LoadNote":   func() error { _, err := s.LoadNote(ctx, n.ID); return err },
		"GetNote":    func() error { _, err := s.GetNote(ctx, n.ID); return err },
		"ListNotes":  func() error { _, err := s.ListNotes(ctx, 10); return err },
		"Append": func() error {
			_, err := s.Append(ctx, n.ID, 0, []scribe.Change{ChangeOf("s", 1, op)})
			return err
		},
		"Changes":      func() error { _, err := s.Changes(ctx, n.ID, 0, 1); return err },
		"LastSeq":      func() error { _, _, err := s.LastSeq(ctx, n.ID, "s"); return err },
		"Publish":      func() error { return s.Publish(ctx, n.ID, []byte("x")) },
		"CreateShare":  func() error { _, err := s.CreateShare(ctx, n.ID); return err },
		"ResolveShare": func() error { _, err := s.ResolveShare(ctx, sh.Token); return err },
		"ListShares":   func() error { _, err := s.ListShares(ctx, n.ID); return err },
		"RevokeShare":  func() error { return s.RevokeShare(ctx, sh.Token) },
		"Ping":         func() error { return s.Ping(ctx) },
		"Subscribe": func() error {
			sub, err := s.Subscribe(ctx, n.ID)
			if sub != nil {
				sub.Close()
			}
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	// Nothing happened.
	bg := context.Background()
	if d := mustLoad(t, s, n.ID); d.Revision != 0 {
		t.Errorf("a cancelled Append committed: head %d", d.Revision)
	}
	if _, err := s.ResolveShare(bg, sh.Token); err != nil {
		t.Errorf("a cancelled RevokeShare revoked: %v", err)
	}
	if ns, _ := s.ListNotes(bg, 10); len(ns) != 1 {
		t.Errorf("a cancelled CreateNote created: %d notes", len(ns))
	}
}

func testPing(t *testing.T, s scribe.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
