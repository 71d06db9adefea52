package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Clock is a clock the compaction suite sets by hand: the stores it makes
// stamp each change with Clock.Now instead of time.Now, so that the suite
// can write history "days ago" and compact it without waiting. Safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// NewClockStore returns a fresh, open store with an empty namespace, as
// NewStore does, whose Append stamps changes with clock() instead of the
// time of day. The store must implement scribe.Compactor and keep its
// default snapshot intervals (a snapshot is a fold boundary; the suite
// counts folds of 20 and 30 changes).
type NewClockStore func(tb testing.TB, clock func() time.Time) scribe.Store

// HistorySizer is implemented by stores that can say how many bytes of
// history a note holds (the count their history budget is checked
// against). The compaction suite checks, for such a store, that compaction
// lowers it by exactly what CompactStep reports freed.
type HistorySizer interface {
	HistoryBytes(ctx context.Context, id scribe.NoteID) (int64, error)
}

// compactHotAge is the hot age the suite compacts with.
const compactHotAge = 7 * 24 * time.Hour

// RunCompaction runs the scribe.Compactor guarantees against the stores
// newStore returns.
func RunCompaction(t *testing.T, newStore NewClockStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock)
	}{
		{"Folds", testCompactFolds},
		{"Invalid", testCompactInvalid},
		{"NothingCold", testCompactNothingCold},
		{"Budget", testCompactBudget},
		{"AfterCompaction", testCompactAfter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
			s := newStore(t, clock.Now)
			c, ok := s.(scribe.Compactor)
			if !ok {
				t.Fatalf("%T does not implement scribe.Compactor", s)
			}
			tc.fn(t, s, c, clock)
		})
	}
}

// coldHistory is a note written in the past, with what the suite knows of
// every revision of it: the text, who wrote each character, the change.
type coldHistory struct {
	id      scribe.NoteID
	texts   []string          // texts[r]: the text at revision r
	units   [][]string        // units[r]: the author key of each UTF-16 unit at r
	changes []scribe.Change   // changes[r-1]: revision r as Changes returned it before compaction
	marks   []scribe.Revision // revisions with a named checkpoint
	cold    scribe.Revision   // the last revision written before the hot part
	lastSeq map[string]uint64 // each session's highest seq
}

// compactWriters write the cold history: members, guests, an API session,
// a restore (Credit) now and then.
var compactWriters = []scribe.Change{
	{Session: "ada-session", Author: "Ada", Email: "ada@example.com"},
	{Session: "ada-tab2", Author: "Ada", Email: "ada@example.com"},
	{Session: "grace-session", Author: "Grace"},
	{Session: "grace-session", Author: "Grace Hopper"}, // a rename mid-session: another author
	{Session: "zoe-session", Author: "Zoë"},
}

// writeCold writes, at the clock's time and onwards, about ops changes in
// runs by one writer (a run 1 to 40 changes long, in batches, the clock
// moving 0 to 25 s per batch so that runs cross minutes), named
// checkpoints in the middle of runs, then moves the clock past the hot age
// and writes hot changes. It returns what it wrote.
func writeCold(t *testing.T, s scribe.Store, clock *Clock, ops, hot int, seed uint64) *coldHistory {
	t.Helper()
	ctx := context.Background()
	n := mustCreate(t, s, "# Notes\n")
	h := &coldHistory{id: n.ID, texts: []string{"# Notes\n"}, units: [][]string{make([]string, Len("# Notes\n"))}, lastSeq: map[string]uint64{}}
	rng := rand.New(rand.NewPCG(seed, 13))
	write := func(batch []scribe.Change) { // after next made the batch
		t.Helper()
		rev := scribe.Revision(len(h.texts) - 1 - len(batch))
		mustAppend(t, s, h.id, rev, batch...)
		got := mustChanges(t, s, h.id, rev, rev+scribe.Revision(len(batch)))
		if len(got) != len(batch) {
			t.Fatalf("Changes after an append: %d changes, want %d", len(got), len(batch))
		}
		h.changes = append(h.changes, got...)
	}
	next := func(w scribe.Change, credit bool) scribe.Change {
		doc := h.texts[len(h.texts)-1]
		h.lastSeq[w.Session]++
		w.Seq = h.lastSeq[w.Session]
		w.Op = RandomOp(rng, doc, 200)
		who := make([]string, insertedLen(t, w.Op))
		for i := range who {
			who[i] = scribe.AuthorOf(w).Key
		}
		if credit && len(who) > 0 {
			ada := scribe.Author{Key: "n:someone earlier", Name: "Someone earlier"}
			w.Credit = []scribe.CreditRun{{Len: len(who), Author: ada}}
			for i := range who {
				who[i] = ada.Key
			}
		}
		text, err := Apply(doc, w.Op)
		if err != nil {
			t.Fatal(err)
		}
		h.texts = append(h.texts, text)
		h.units = append(h.units, moveAuthors(t, h.units[len(h.units)-1], w.Op, who))
		return w
	}
	for len(h.texts)-1 < ops {
		w := compactWriters[rng.IntN(len(compactWriters))]
		run := min(1+rng.IntN(40), ops-(len(h.texts)-1))
		for run > 0 {
			size := min(1+rng.IntN(8), run)
			batch := make([]scribe.Change, size)
			for i := range batch {
				batch[i] = next(w, rng.IntN(50) == 0)
			}
			write(batch)
			run -= size
			clock.Advance(time.Duration(rng.IntN(25)) * time.Second)
			if rng.IntN(30) == 0 {
				// A named checkpoint, most likely in the middle of a run.
				r := scribe.Revision(len(h.texts) - 1 - rng.IntN(3))
				name := fmt.Sprintf("mark at %d", r)
				if rng.IntN(2) == 0 {
					if _, err := s.AddCheckpoint(ctx, h.id, scribe.ExportCheckpoint(r, fmt.Sprintf("%040x", r), scribe.Person{Name: "Ada"})); err != nil {
						t.Fatal(err)
					}
				} else if _, err := s.AddCheckpoint(ctx, h.id, scribe.Checkpoint{Rev: r, Name: name}); err != nil {
					t.Fatal(err)
				}
				h.marks = append(h.marks, r)
			}
		}
		if rng.IntN(10) == 0 {
			clock.Advance(time.Duration(rng.IntN(3)) * time.Hour) // a pause between meetings
		}
	}
	h.cold = scribe.Revision(len(h.texts) - 1)
	clock.Advance(compactHotAge + time.Hour)
	for range hot {
		// Hot: one writer, one minute, small batches; never folded.
		write([]scribe.Change{next(compactWriters[0], false)})
	}
	return h
}

// insertedLen is how many UTF-16 units op inserts.
func insertedLen(t *testing.T, raw []byte) int {
	t.Helper()
	op, err := ot.ParseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return op.InsertedLen()
}

// moveAuthors moves the author of every UTF-16 unit through op, the
// inserted units being who's, in order.
func moveAuthors(t *testing.T, units []string, raw []byte, who []string) []string {
	t.Helper()
	op, err := ot.ParseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, op.TargetLen())
	i := 0
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			out = append(out, units[i:i+c.Retain]...)
			i += c.Retain
		case c.Delete > 0:
			i += c.Delete
		default:
			n := ot.Len16(c.Insert)
			out = append(out, who[:n]...)
			who = who[n:]
		}
	}
	return out
}

// compactAll runs CompactStep with budget until a step folds nothing,
// checking each step's bound, and returns the steps' totals and how many
// steps folded something.
func compactAll(t *testing.T, c scribe.Compactor, now time.Time, budget int) (scribe.CompactStats, int) {
	t.Helper()
	var total scribe.CompactStats
	for steps := 0; ; steps++ {
		st, err := c.CompactStep(context.Background(), now, compactHotAge, budget)
		if err != nil {
			t.Fatalf("CompactStep %d: %v", steps+1, err)
		}
		if st.Changes > budget {
			t.Fatalf("CompactStep folded %d changes, budget %d", st.Changes, budget)
		}
		if st.Changes < 0 || st.Folds < 0 || st.Folds > st.Changes/2 || st.Changes > 0 && st.Folds == 0 {
			t.Fatalf("CompactStep stats %+v are not possible: a fold merges at least two changes", st)
		}
		if st.Changes == 0 {
			if st.Folds != 0 || st.Bytes != 0 || st.Behind != 0 {
				t.Fatalf("a CompactStep that folded nothing says %+v", st)
			}
			return total, steps
		}
		total.Add(st)
		if steps > 100_000 {
			t.Fatal("compaction does not finish")
		}
	}
}

// checkCompacted checks the note's log after compaction against what was
// written, and returns the folds (by First) it found.
func checkCompacted(t *testing.T, s scribe.Store, h *coldHistory, now time.Time) map[scribe.Revision]scribe.Change {
	t.Helper()
	ctx := context.Background()
	head := scribe.Revision(len(h.texts) - 1)
	log := mustChanges(t, s, h.id, 0, head)
	folds := map[scribe.Revision]scribe.Change{}
	marked := map[scribe.Revision]bool{0: true}
	for _, r := range h.marks {
		marked[r] = true
	}
	prev := scribe.Revision(0)
	for _, c := range log {
		if c.Base() != prev || c.Revision <= prev {
			t.Fatalf("the compacted log is not continuous: after revision %d comes %d..%d", prev, c.Base()+1, c.Revision)
		}
		prev = c.Revision
		if c.First == 0 {
			want := h.changes[c.Revision-1]
			if c.Session != want.Session || c.Seq != want.Seq || c.Author != want.Author || c.Email != want.Email ||
				!jsonEqual(c.Op, want.Op) || !slices.Equal(c.Credit, want.Credit) || !c.Time.Equal(want.Time) {
				t.Fatalf("compaction changed revision %d: %+v, was %+v", c.Revision, c, want)
			}
			continue
		}
		folds[c.First] = c
		if c.First >= c.Revision || c.First < 1 {
			t.Fatalf("a fold from %d to %d", c.First, c.Revision)
		}
		if got, err := Apply(h.texts[c.First-1], c.Op); err != nil || got != h.texts[c.Revision] {
			t.Fatalf("the fold %d..%d does not give the text at %d: %q, %v", c.First, c.Revision, c.Revision, got, err)
		}
		last := h.changes[c.Revision-1]
		if c.Seq != last.Seq || !c.Time.Equal(last.Time) {
			t.Errorf("the fold %d..%d has seq %d, time %v; want the last change's, %d, %v", c.First, c.Revision, c.Seq, c.Time, last.Seq, last.Time)
		}
		minute := h.changes[c.First-1].Time.Truncate(time.Minute)
		for r := c.First; r <= c.Revision; r++ {
			o := h.changes[r-1]
			switch {
			case o.Session != c.Session || o.Author != c.Author || o.Email != c.Email:
				t.Fatalf("the fold %d..%d by %q/%q crosses revision %d by %q/%q", c.First, c.Revision, c.Session, c.Author, r, o.Session, o.Author)
			case len(o.Credit) > 0 || len(c.Credit) > 0:
				t.Fatalf("the fold %d..%d holds a change with Credit (revision %d)", c.First, c.Revision, r)
			case !o.Time.Truncate(time.Minute).Equal(minute):
				t.Fatalf("the fold %d..%d crosses a minute at revision %d", c.First, c.Revision, r)
			case !scribe.Cold(o.Time, now, compactHotAge) || r > h.cold:
				t.Fatalf("the fold %d..%d holds revision %d, which is not cold", c.First, c.Revision, r)
			case r < c.Revision && marked[r]:
				t.Fatalf("the fold %d..%d swallowed the named checkpoint at %d", c.First, c.Revision, r)
			}
		}
	}
	if prev != head {
		t.Fatalf("the compacted log ends at %d, the head is %d", prev, head)
	}
	// Every revision: the text and the authors where addressable, the Gone
	// error with the right neighbours where not.
	inFold := make([]*scribe.Change, head+1)
	for _, f := range folds {
		for r := f.First; r < f.Revision; r++ {
			inFold[r] = &f
		}
	}
	rng := rand.New(rand.NewPCG(uint64(head), 3))
	for r := scribe.Revision(0); r <= head; r++ {
		text, err := s.TextAt(ctx, h.id, r)
		if f := inFold[r]; f != nil {
			wantFolded(t, err, r, f, "TextAt")
			if rng.IntN(10) == 0 {
				_, err = s.AuthorsAt(ctx, h.id, r)
				wantFolded(t, err, r, f, "AuthorsAt")
				_, err = s.Changes(ctx, h.id, r, head)
				wantFolded(t, err, r, f, "Changes from")
				_, err = s.Changes(ctx, h.id, 0, r)
				wantFolded(t, err, r, f, "Changes to")
				_, err = s.AddCheckpoint(ctx, h.id, scribe.Checkpoint{Rev: r, Name: "inside a fold"})
				wantFolded(t, err, r, f, "AddCheckpoint")
			}
			continue
		}
		if err != nil || text != h.texts[r] {
			t.Fatalf("after compaction TextAt(%d) = %q, %v; want %q", r, text, err, h.texts[r])
		}
		if r == head || r == 0 || inFold[max(r-1, 0)] != nil || rng.IntN(8) == 0 {
			a, err := s.AuthorsAt(ctx, h.id, r)
			if err != nil {
				t.Fatalf("after compaction AuthorsAt(%d): %v", r, err)
			}
			if got := AuthorUnits(t, a); !slices.Equal(got, h.units[r]) && (len(got) > 0 || len(h.units[r]) > 0) {
				t.Fatalf("after compaction AuthorsAt(%d) = %v, want %v", r, got, h.units[r])
			}
		}
	}
	if d := mustLoad(t, s, h.id); d.Revision != head || d.Text != h.texts[head] {
		t.Fatalf("after compaction LoadNote = %d %q, want %d %q", d.Revision, d.Text, head, h.texts[head])
	}
	for session, seq := range h.lastSeq {
		got, rev, err := s.LastSeq(ctx, h.id, session)
		if err != nil || got != seq || rev < 1 || rev > head || inFold[rev] != nil {
			t.Errorf("after compaction LastSeq(%q) = %d at %d, %v; want %d at an addressable revision", session, got, rev, err, seq)
		}
	}
	// Named checkpoints are all still there, at their revisions.
	cps, err := s.Checkpoints(ctx, h.id, 0, scribe.MaxCheckpointPage)
	if err != nil || len(cps) != len(h.marks) {
		t.Fatalf("after compaction Checkpoints = %d, %v; want %d", len(cps), err, len(h.marks))
	}
	return folds
}

// addressable reports whether rev is outside every fold of folds (or at
// its end).
func addressable(folds map[scribe.Revision]scribe.Change, rev scribe.Revision) bool {
	for _, f := range folds {
		if f.First <= rev && rev < f.Revision {
			return false
		}
	}
	return true
}

// wantFolded checks err is the FoldedError of rev inside fold f.
func wantFolded(t *testing.T, err error, rev scribe.Revision, f *scribe.Change, what string) {
	t.Helper()
	fe, ok := scribe.AsFolded(err)
	if !ok || scribe.ErrorCode(err) != scribe.EGONE {
		t.Fatalf("%s(%d) inside the fold %d..%d: %v; want EGONE", what, rev, f.First, f.Revision, err)
	}
	if fe.Rev != rev || fe.Below != f.First-1 || fe.Above != f.Revision {
		t.Fatalf("%s(%d): Gone %+v; want neighbours %d and %d", what, rev, *fe, f.First-1, f.Revision)
	}
}

// testCompactFolds: a history of runs by several writers, compacted in
// small steps, keeps every addressable revision's text and authors, folds
// only what it may, answers EGONE inside folds, and does it all once.
func testCompactFolds(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock) {
	ctx := context.Background()
	h := writeCold(t, s, clock, 2500, 30, 1)
	now := clock.Now()
	other := writeCold(t, s, clock, 300, 0, 2) // written at now and after: hot
	sizer, sized := s.(HistorySizer)
	var before int64
	if sized {
		var err error
		if before, err = sizer.HistoryBytes(ctx, h.id); err != nil {
			t.Fatal(err)
		}
	}
	total, steps := compactAll(t, c, now, 200)
	t.Logf("compacted %d changes into %d folds in %d steps, %d bytes freed", total.Changes, total.Folds, steps, total.Bytes)
	if total.Folds == 0 || total.Changes < int(h.cold)/3 {
		t.Fatalf("compaction folded %d changes into %d folds of a cold history of %d in runs averaging 20", total.Changes, total.Folds, h.cold)
	}
	if total.Bytes <= 0 {
		t.Errorf("compaction freed %d bytes", total.Bytes)
	}
	if sized {
		after, err := sizer.HistoryBytes(ctx, h.id)
		if err != nil {
			t.Fatal(err)
		}
		if before-after != total.Bytes {
			t.Errorf("the note's history went from %d to %d bytes, CompactStep says it freed %d", before, after, total.Bytes)
		}
	}
	folds := checkCompacted(t, s, h, now)
	got := 0
	for _, f := range folds {
		got += int(f.Revision-f.First) + 1
	}
	if got != total.Changes || len(folds) != total.Folds {
		t.Errorf("the log holds %d folds of %d changes; CompactStep says %d of %d", len(folds), got, total.Folds, total.Changes)
	}
	// The other note was not cold yet: untouched.
	if cs := mustChanges(t, s, other.id, 0, scribe.Revision(len(other.texts)-1)); len(cs) != len(other.changes) {
		t.Errorf("a hot note's log has %d entries after compaction, want %d", len(cs), len(other.changes))
	}
	// Idempotent: the same clock folds nothing more.
	if st, err := c.CompactStep(ctx, now, compactHotAge, 1000); err != nil || st.Changes != 0 {
		t.Errorf("a second compaction at the same time = %+v, %v; want nothing", st, err)
	}
	checkCompacted(t, s, h, now)
}

// testCompactAfter: a compacted note still takes edits, recognises a
// resend of a folded (session, seq) as a duplicate at its fold, a resend
// of a hot one at its revision, and takes checkpoints at addressable
// revisions.
func testCompactAfter(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock) {
	ctx := context.Background()
	h := writeCold(t, s, clock, 800, 10, 5)
	compactAll(t, c, clock.Now(), 1000)
	folds := checkCompacted(t, s, h, clock.Now())
	head := scribe.Revision(len(h.texts) - 1)
	if len(folds) == 0 {
		t.Fatal("nothing was folded")
	}
	for _, f := range folds {
		// Every change of the fold, resent, is a duplicate: its revision is
		// an addressable one at or after the fold's end, and nothing is
		// written.
		for r := f.First; r <= f.Revision; r++ {
			o := h.changes[r-1]
			resend := scribe.Change{Op: EditOp(h.texts[head], 0, 0, "dup"), Session: o.Session, Seq: o.Seq, Author: o.Author, Email: o.Email}
			revs, err := s.Append(ctx, h.id, head, []scribe.Change{resend})
			if err != nil || len(revs) != 1 || revs[0] < f.Revision || revs[0] > head || !addressable(folds, revs[0]) {
				t.Fatalf("a resend of (%q, %d), folded into %d..%d, gave %v, %v; want an addressable revision from %d to %d", o.Session, o.Seq, f.First, f.Revision, revs, err, f.Revision, head)
			}
		}
		break
	}
	hot := h.changes[head-1]
	resend := scribe.Change{Op: EditOp(h.texts[head], 0, 0, "dup"), Session: hot.Session, Seq: hot.Seq, Author: hot.Author, Email: hot.Email}
	if revs, err := s.Append(ctx, h.id, head, []scribe.Change{resend}); err != nil || len(revs) != 1 || revs[0] != head {
		t.Fatalf("a resend of the head's (session, seq) gave %v, %v; want %d", revs, err, head)
	}
	if d := mustLoad(t, s, h.id); d.Revision != head {
		t.Fatalf("resends moved the head to %d", d.Revision)
	}
	// A new edit by a session whose history was folded, and one by a new
	// session.
	w := compactWriters[2]
	w.Seq = h.lastSeq[w.Session] + 1
	w.Op = EditOp(h.texts[head], 0, 0, "new ")
	mustAppend(t, s, h.id, head, w, ChangeOf("fresh", 1, EditOp("new "+h.texts[head], 0, 0, "x")))
	if d := mustLoad(t, s, h.id); d.Revision != head+2 || d.Text != "xnew "+h.texts[head] {
		t.Fatalf("after compaction and two edits the note is %d %q", d.Revision, d.Text)
	}
	for _, f := range folds {
		if _, err := s.AddCheckpoint(ctx, h.id, scribe.Checkpoint{Rev: f.Revision, Name: "at a fold"}); err != nil {
			t.Errorf("AddCheckpoint at a fold's end: %v", err)
		}
		if _, err := s.AddCheckpoint(ctx, h.id, scribe.Checkpoint{Rev: f.First - 1, Name: "before a fold"}); err != nil {
			t.Errorf("AddCheckpoint before a fold: %v", err)
		}
		break
	}
}

func testCompactInvalid(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock) {
	ctx := context.Background()
	_, err := c.CompactStep(ctx, clock.Now(), compactHotAge, 0)
	wantCode(t, err, scribe.EINVALID, "CompactStep with budget 0")
	_, err = c.CompactStep(ctx, clock.Now(), 0, 10)
	wantCode(t, err, scribe.EINVALID, "CompactStep with hot age 0")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.CompactStep(cancelled, clock.Now(), compactHotAge, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("CompactStep with a cancelled context: %v", err)
	}
}

// testCompactNothingCold: history younger than the hot age, and the minute
// the cutoff falls in, are left alone.
func testCompactNothingCold(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock) {
	ctx := context.Background()
	n := mustCreate(t, s, "")
	doc := ""
	for i := range 20 {
		op := EditOp(doc, Len(doc), 0, "x")
		mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("one", uint64(i+1), op))
		doc += "x"
	}
	if st, err := c.CompactStep(ctx, clock.Now().Add(compactHotAge-time.Hour), compactHotAge, 100); err != nil || st != (scribe.CompactStats{}) {
		t.Errorf("CompactStep of hot history = %+v, %v; want nothing", st, err)
	}
	// The cutoff inside the changes' minute: not cold yet.
	if st, err := c.CompactStep(ctx, clock.Now().Add(compactHotAge+time.Second), compactHotAge, 100); err != nil || st != (scribe.CompactStats{}) {
		t.Errorf("CompactStep with the cutoff in the changes' minute = %+v, %v; want nothing", st, err)
	}
	if cs := mustChanges(t, s, n.ID, 0, 20); len(cs) != 20 {
		t.Errorf("hot history has %d entries after compaction, want 20", len(cs))
	}
	// A minute later it is cold: one fold (revision 0 is a boundary only
	// at its start).
	st, err := c.CompactStep(ctx, clock.Now().Add(compactHotAge+time.Minute), compactHotAge, 100)
	if err != nil || st.Changes != 20 || st.Folds != 1 {
		t.Errorf("CompactStep of one cold minute by one writer = %+v, %v; want 20 changes in 1 fold", st, err)
	}
	cs := mustChanges(t, s, n.ID, 0, 20)
	if len(cs) != 1 || cs[0].First != 1 || cs[0].Revision != 20 || cs[0].Seq != 20 {
		t.Fatalf("the log after folding one minute = %+v", cs)
	}
	if text, err := s.TextAt(ctx, n.ID, 20); err != nil || text != doc {
		t.Errorf("TextAt(head) = %q, %v", text, err)
	}
}

// testCompactBudget: a step folds at most its budget, says how many notes
// it left behind, and the next steps finish the work.
func testCompactBudget(t *testing.T, s scribe.Store, c scribe.Compactor, clock *Clock) {
	ctx := context.Background()
	var ids []scribe.NoteID
	for range 3 {
		n := mustCreate(t, s, "")
		doc := ""
		for i := range 30 {
			op := EditOp(doc, Len(doc), 0, "y")
			mustAppend(t, s, n.ID, scribe.Revision(i), ChangeOf("writer", uint64(i+1), op))
			doc += "y"
		}
		ids = append(ids, n.ID)
	}
	now := clock.Now().Add(compactHotAge + time.Minute)
	st, err := c.CompactStep(ctx, now, compactHotAge, 10)
	if err != nil || st.Changes == 0 || st.Changes > 10 {
		t.Fatalf("CompactStep with budget 10 = %+v, %v", st, err)
	}
	if st.Behind < 1 {
		t.Errorf("CompactStep left work undone but says %d notes are behind", st.Behind)
	}
	total, _ := compactAll(t, c, now, 10)
	total.Add(st)
	if total.Changes != 90 {
		t.Errorf("compaction folded %d changes of 3 notes of 30 cold changes each, want 90", total.Changes)
	}
	for _, id := range ids {
		cs := mustChanges(t, s, id, 0, 30)
		if cs[len(cs)-1].Revision != 30 || cs[0].Base() != 0 {
			t.Errorf("a note's compacted log is %+v", cs)
		}
		if text, err := s.TextAt(ctx, id, 30); err != nil || len(text) != 30 {
			t.Errorf("TextAt(head) = %q, %v", text, err)
		}
	}
}
