package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// authorsTests are the scribe.AuthorshipStore guarantees; Run runs them.
var authorsTests = []struct {
	name string
	fn   func(t *testing.T, s scribe.Store)
}{
	{"AuthorsAtRandomRevisions", testAuthorsAtRandom},
	{"AuthorsAtInvalid", testAuthorsAtInvalid},
	{"Credit", testCredit},
}

// writers are the people of testAuthorsAtRandom: members (an email) and
// guests (a name), one of them writing under two spellings of one name.
var writers = []scribe.Change{
	{Session: "ada-session", Author: "Ada", Email: "ada@example.com"},
	{Session: "ada-tab2", Author: "Ada", Email: "ada@example.com"},
	{Session: "grace-session", Author: "Grace"},
	{Session: "grace-again", Author: "grace"},
	{Session: "zoe-session", Author: "Zoë"},
}

// unitAuthors moves the author of every UTF-16 unit through op (the
// brute-force model AuthorsAt is checked against).
func unitAuthors(t *testing.T, units []string, rawOp []byte, who string) []string {
	t.Helper()
	op, err := ot.ParseJSON(rawOp)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	i := 0
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			out = append(out, units[i:i+c.Retain]...)
			i += c.Retain
		case c.Delete > 0:
			i += c.Delete
		default:
			for range ot.Len16(c.Insert) {
				out = append(out, who)
			}
		}
	}
	return out
}

// AuthorUnits gives the author key of every UTF-16 unit of a ("" for
// nobody), failing unless a's runs are well formed.
func AuthorUnits(t *testing.T, a scribe.Authorship) []string {
	t.Helper()
	var out []string
	for i, r := range a.Runs {
		if r.Len <= 0 || r.Author < scribe.NoAuthor || r.Author >= len(a.Authors) || i > 0 && a.Runs[i-1].Author == r.Author {
			t.Fatalf("authorship at %d: run %d of %+v is malformed", a.Rev, i, a.Runs)
		}
		k := ""
		if r.Author != scribe.NoAuthor {
			k = a.Authors[r.Author].Key
		}
		for range r.Len {
			out = append(out, k)
		}
	}
	for _, p := range a.Authors {
		if strings.Contains(p.Key+p.Name, "@") {
			t.Fatalf("authorship at %d shows an email: %+v", a.Rev, p)
		}
	}
	return out
}

// testAuthorsAtRandom: who wrote each character at random revisions (and
// at 0 and the head) equals a per-character replay of the log, whatever
// the snapshot and history boundaries; appending more keeps the past.
func testAuthorsAtRandom(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	const ops = 3000
	n := mustCreate(t, s, "# Template\n")
	rng := rand.New(rand.NewPCG(5, 9))
	doc := "# Template\n"
	units := [][]string{make([]string, Len(doc))}
	seqs := map[string]uint64{}
	for rev := 0; rev < ops; {
		size := min(1+rng.IntN(250), ops-rev)
		batch := make([]scribe.Change, size)
		cur := units[len(units)-1]
		for i := range batch {
			w := writers[rng.IntN(len(writers))]
			seqs[w.Session]++
			w.Seq = seqs[w.Session]
			w.Op = RandomOp(rng, doc, 50)
			batch[i] = w
			var err error
			if doc, err = Apply(doc, w.Op); err != nil {
				t.Fatal(err)
			}
			cur = unitAuthors(t, cur, w.Op, scribe.AuthorOf(w).Key)
			units = append(units, cur)
		}
		mustAppend(t, s, n.ID, scribe.Revision(rev), batch...)
		rev += size
	}
	revs := []int{0, 1, ops, ops - 1, 99, 100, 101, 999, 1000, 1001, 2000}
	for range 100 {
		revs = append(revs, rng.IntN(ops+1))
	}
	check := func(r int) {
		t.Helper()
		a, err := s.AuthorsAt(ctx, n.ID, scribe.Revision(r))
		if err != nil {
			t.Fatalf("AuthorsAt(%d): %v", r, err)
		}
		if a.Rev != scribe.Revision(r) {
			t.Fatalf("AuthorsAt(%d) says revision %d", r, a.Rev)
		}
		if got := AuthorUnits(t, a); !slices.Equal(got, units[r]) && (len(got) > 0 || len(units[r]) > 0) {
			t.Fatalf("AuthorsAt(%d) = %v, want %v (a replay)", r, got, units[r])
		}
	}
	for _, r := range revs {
		check(r)
	}
	// Names: one person is one author, under the name they wrote last.
	a, _ := s.AuthorsAt(ctx, n.ID, ops)
	keys := map[string]bool{}
	for _, p := range a.Authors {
		if keys[p.Key] {
			t.Errorf("AuthorsAt lists %q twice: %+v", p.Key, a.Authors)
		}
		keys[p.Key] = true
	}
	mustAppend(t, s, n.ID, ops, ChangeOf("more", 1, EditOp(doc, 0, 0, "more ")))
	units = append(units, unitAuthors(t, units[ops], EditOp(doc, 0, 0, "more "), scribe.AuthorOf(ChangeOf("more", 1, nil)).Key))
	for _, r := range []int{0, ops / 2, ops, ops + 1} {
		check(r)
	}
}

func testAuthorsAtInvalid(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "abc")
	mustAppend(t, s, n.ID, 0, ChangeOf("s", 1, EditOp("abc", 3, 0, "d")))
	_, err := s.AuthorsAt(ctx, n.ID, 2)
	wantCode(t, err, scribe.EINVALID, "AuthorsAt beyond the head")
	_, err = s.AuthorsAt(ctx, n.ID, -1)
	wantCode(t, err, scribe.EINVALID, "AuthorsAt(-1)")
	_, err = s.AuthorsAt(ctx, scribe.NewNoteID(), 0)
	wantCode(t, err, scribe.ENOTFOUND, "AuthorsAt of an unknown note")
	_, err = s.AuthorsAt(ctx, "../x", 0)
	wantCode(t, err, scribe.ENOTFOUND, "AuthorsAt of a malformed id")
	a, err := s.AuthorsAt(ctx, n.ID, 1)
	if err != nil || len(a.Runs) != 2 || a.Runs[0] != (scribe.AuthorRun{Len: 3, Author: scribe.NoAuthor}) || a.Runs[1].Len != 1 ||
		a.Authors[a.Runs[1].Author] != scribe.AuthorOf(ChangeOf("s", 1, nil)) {
		t.Errorf("AuthorsAt(1) = %+v, %v; want the template nobody's and d by s", a, err)
	}
	empty := mustCreate(t, s, "")
	if a, err := s.AuthorsAt(ctx, empty.ID, 0); err != nil || len(a.Runs) != 0 {
		t.Errorf("AuthorsAt of an empty note = %+v, %v", a, err)
	}
}

// checkAuthorsCost: who wrote the text at each of revs costs about what
// the text costs (both read a snapshot and the changes since), not a
// replay from revision 0. Compared in one run, so a busy machine slows
// both alike; without authorship beside the snapshots the ratio is in the
// tens after HistoryOps changes.
func checkAuthorsCost(t *testing.T, s scribe.Store, id scribe.NoteID, texts map[int]string) {
	t.Helper()
	ctx := context.Background()
	var textTime, authorsTime time.Duration
	for r, text := range texts {
		best := func(f func() error) time.Duration {
			var b time.Duration
			for range 3 {
				start := time.Now()
				if err := f(); err != nil {
					t.Fatalf("at revision %d: %v", r, err)
				}
				if d := time.Since(start); b == 0 || d < b {
					b = d
				}
			}
			return b
		}
		textTime += best(func() error { _, err := s.TextAt(ctx, id, scribe.Revision(r)); return err })
		authorsTime += best(func() error {
			a, err := s.AuthorsAt(ctx, id, scribe.Revision(r))
			if err == nil && len(AuthorUnits(t, a)) != Len(text) {
				t.Errorf("AuthorsAt(%d) covers %d units of %d", r, len(AuthorUnits(t, a)), Len(text))
			}
			return err
		})
	}
	ratio := float64(authorsTime) / float64(max(textTime, time.Microsecond))
	t.Logf("AuthorsAt takes %.1fx TextAt at the same revisions (%v vs %v)", ratio, authorsTime, textTime)
	if ratio > 8 {
		t.Errorf("AuthorsAt takes %.1fx as long as TextAt at the same revisions, want under 8x (authorship beside the snapshots)", ratio)
	}
}

// testCredit: a change's Credit (a restore's) says who wrote what it
// inserts; it is kept in the log, and one that does not cover the inserted
// characters exactly is EINVALID and writes nothing.
func testCredit(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	n := mustCreate(t, s, "ab")
	bad := ChangeOf("r", 1, EditOp("ab", 2, 0, "xyz"))
	bad.Credit = []scribe.CreditRun{{Len: 2, Author: scribe.Author{Key: "n:ada", Name: "Ada"}}}
	_, err := s.Append(ctx, n.ID, 0, []scribe.Change{bad})
	wantCode(t, err, scribe.EINVALID, "a credit of 2 for 3 inserted")
	good := bad
	good.Credit = append(good.Credit, scribe.CreditRun{Len: 1}) // the last one nobody's
	mustAppend(t, s, n.ID, 0, good)
	a, err := s.AuthorsAt(ctx, n.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := AuthorUnits(t, a); !slices.Equal(got, []string{"", "", "n:ada", "n:ada", ""}) {
		t.Errorf("AuthorsAt after a credited change = %q", got)
	}
	cs, err := s.Changes(ctx, n.ID, 0, 1)
	if err != nil || len(cs) != 1 || !slices.Equal(cs[0].Credit, good.Credit) {
		t.Errorf("Changes lost the credit: %+v, %v", cs, err)
	}
}
