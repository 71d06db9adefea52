package authorship

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// randomOp returns a random op on a text of n UTF-16 units made of BMP
// characters and, as insertions, emoji (two units each).
func randomOp(r *rand.Rand, n int) ot.Operation {
	b := ot.NewBuilder()
	pos := 0
	for pos < n || r.IntN(3) == 0 {
		switch k := r.IntN(4); {
		case k == 0 && pos < n:
			m := 1 + r.IntN(min(n-pos, 8))
			b.Delete(m)
			pos += m
		case k == 1:
			b.Insert([]string{"a", "bc", "😀", "会", "é\n"}[r.IntN(5)])
		default:
			if pos == n {
				b.Insert("z")
				continue
			}
			m := 1 + r.IntN(n-pos)
			b.Retain(m)
			pos += m
		}
		if pos == n && r.IntN(2) == 0 {
			break
		}
	}
	op, err := b.Build()
	if err != nil {
		panic(err)
	}
	return op
}

// bruteForce applies op to one author per UTF-16 unit.
func bruteForce(units []string, op ot.Operation, who string) []string {
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

// expand gives a's author key per UTF-16 unit ("" for nobody).
func expand(a scribe.Authorship) []string {
	var out []string
	for _, r := range a.Runs {
		k := ""
		if r.Author != scribe.NoAuthor {
			k = a.Authors[r.Author].Key
		}
		for range r.Len {
			out = append(out, k)
		}
	}
	return out
}

// checkRuns fails unless a's runs are canonical: none empty, no two
// neighbours by one author, every author index in range.
func checkRuns(t *testing.T, a scribe.Authorship) {
	t.Helper()
	for i, r := range a.Runs {
		if r.Len <= 0 || r.Author < scribe.NoAuthor || r.Author >= len(a.Authors) || i > 0 && a.Runs[i-1].Author == r.Author {
			t.Fatalf("run %d of %v is not canonical", i, a.Runs)
		}
	}
}

// TestReplayMatchesBruteForce: after random edit sequences by random
// people, the runs cover the text exactly and give every character the
// author a per-character replay gives it; the stored form round-trips.
func TestReplayMatchesBruteForce(t *testing.T) {
	t.Parallel()
	people := []scribe.Change{
		{Author: "Ada", Email: "ada@example.com"},
		{Author: "Grace"},
		{Author: "grace "}, // the same person as Grace, by name
		{Session: "api:xyz12345"},
		{Author: "Zoë"},
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		text := strings.Repeat("template\n", r.IntN(4))
		a := Start(0, text)
		units := make([]string, ot.Len16(text))
		var changes []scribe.Change
		for i := range 1 + r.IntN(40) {
			// An op whose boundary would split an emoji is drawn again.
			op := randomOp(r, ot.Len16(text))
			next, err := ot.Apply(text, op)
			for err != nil {
				op = randomOp(r, ot.Len16(text))
				next, err = ot.Apply(text, op)
			}
			text = next
			c := people[r.IntN(len(people))]
			c.Revision = scribe.Revision(i + 1)
			c.Op, _ = op.MarshalJSON()
			changes = append(changes, c)
			units = bruteForce(units, op, scribe.AuthorOf(c).Key)
		}
		// In one go and in two steps through the stored form.
		whole := a
		if err := Replay(&whole, changes); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		half := len(changes) / 2
		first := a
		if err := Replay(&first, changes[:half]); err != nil {
			t.Fatal(err)
		}
		second, err := Decode(Encode(first))
		if err != nil {
			t.Fatal(err)
		}
		if err := Replay(&second, changes[half:]); err != nil {
			t.Fatal(err)
		}
		for _, got := range []scribe.Authorship{whole, second, Compact(whole)} {
			checkRuns(t, got)
			if Len(got) != ot.Len16(text) {
				t.Fatalf("seed %d: runs cover %d units of %d", seed, Len(got), ot.Len16(text))
			}
			if e := expand(got); fmt.Sprint(e) != fmt.Sprint(units) && len(units) > 0 {
				t.Fatalf("seed %d: got %v, want %v", seed, e, units)
			}
			if got.Rev != scribe.Revision(len(changes)) {
				t.Fatalf("seed %d: at revision %d, want %d", seed, got.Rev, len(changes))
			}
		}
	}
}

func TestApplyRefusesAMismatchedOp(t *testing.T) {
	t.Parallel()
	a := Start(0, "abc")
	op, _ := ot.New(5, "x")
	if err := Apply(&a, op, scribe.Author{Key: "n:x"}); err == nil {
		t.Fatal("an op for 5 units applied to 3")
	}
	if len(a.Runs) != 1 || a.Runs[0].Len != 3 || len(a.Authors) != 0 {
		t.Fatalf("a failed Apply changed %+v", a)
	}
	if err := Replay(&a, []scribe.Change{{Revision: 2, Op: json.RawMessage(`[3]`)}}); err == nil {
		t.Fatal("Replay took revision 2 after 0")
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`not json`, `{"r":-1,"a":[],"s":[]}`, `{"r":1,"a":[],"s":[3]}`, `{"r":1,"a":[],"s":[0,-1]}`,
		`{"r":1,"a":[],"s":[3,0]}`, `{"r":1,"a":[{"key":"n:a","name":"a"}],"s":[3,-2]}`,
	} {
		if _, err := Decode([]byte(s)); err == nil {
			t.Errorf("Decode(%s) took it", s)
		}
	}
}

// TestAuthorOfNeverShowsAnEmail: a member is known by a hash of the
// address, and one without a display name by its local part.
func TestAuthorOfNeverShowsAnEmail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		change scribe.Change
		want   scribe.Author
	}{
		{scribe.Change{Author: "Ada Lovelace", Email: "ada@example.com"}, scribe.Author{Key: "p:" + scribe.PersonKey("ada@example.com"), Name: "Ada Lovelace"}},
		{scribe.Change{Author: "ada@example.com", Email: "ada@example.com"}, scribe.Author{Key: "p:" + scribe.PersonKey("ada@example.com"), Name: "ada"}},
		{scribe.Change{Author: " Grace "}, scribe.Author{Key: "n:grace", Name: "Grace"}},
		{scribe.Change{}, scribe.Author{Key: "n:anonymous", Name: "Anonymous"}},
		{scribe.Change{Session: "api:k"}, scribe.Author{Key: "n:api", Name: "API"}},
	} {
		got := scribe.AuthorOf(c.change)
		if got != c.want {
			t.Errorf("AuthorOf(%+v) = %+v, want %+v", c.change, got, c.want)
		}
		if strings.Contains(got.Key+got.Name, "@") {
			t.Errorf("AuthorOf(%+v) shows an email: %+v", c.change, got)
		}
	}
}

// BenchmarkApply is one keystroke moved through the authorship of a note
// of 2,000 runs (about 30 KB written by a dozen people).
func BenchmarkApply(b *testing.B) {
	var a scribe.Authorship
	for i := range 2000 {
		a.Runs = append(a.Runs, scribe.AuthorRun{Len: 15, Author: i % 12})
	}
	for i := range 12 {
		a.Authors = append(a.Authors, scribe.Author{Key: fmt.Sprint("n:", i), Name: fmt.Sprint(i)})
	}
	n := Len(a)
	op, _ := ot.New(n/2, "x", n-n/2)
	undo, _ := ot.New(n/2, -1, n-n/2)
	who := scribe.Author{Key: "n:3", Name: "3"}
	b.ReportAllocs()
	for b.Loop() {
		_ = Apply(&a, op, who)
		_ = Apply(&a, undo, who)
	}
}

// TestCreditKeepsRestoredAuthors: the op that turns a text back into an
// earlier one, credited from the earlier one's authorship, re-creates it.
func TestCreditKeepsRestoredAuthors(t *testing.T) {
	t.Parallel()
	ada, bob := scribe.Author{Key: "n:ada", Name: "Ada"}, scribe.Author{Key: "n:bob", Name: "Bob"}
	then := Start(0, "tmpl")
	for _, e := range []struct {
		items []any
		who   scribe.Author
	}{{[]any{2, "AAA", 2}, ada}, {[]any{7, "BB"}, bob}, {[]any{1, -2, 6}, ada}} {
		op, err := ot.New(e.items...)
		if err != nil {
			t.Fatal(err)
		}
		if err := Apply(&then, op, e.who); err != nil {
			t.Fatal(err)
		}
	}
	// "tAAplBB": the template's t and pl, Ada's AA, Bob's BB; Carol's
	// typing replaced it all, and she restores it.
	now := Start(0, "xxxx")
	restore := ot.Diff("xxxx", "tAAplBB")
	credit := Credit(then, restore)
	if err := apply(&now, restore, func() int { return authorIndex(&now, scribe.Author{Key: "n:carol"}) }, credit); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(expand(now)), fmt.Sprint(expand(then)); got != want {
		t.Fatalf("restored authorship %s, want %s", got, want)
	}
}

// applyEdit (a keystroke's runs changed in place) gives exactly the runs
// apply gives (a copy of them all), for inserts and deletes anywhere in
// runs of random authors and lengths, and declines ops of other shapes and
// runs that are not merged.
func TestApplyEditMatchesApply(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 3))
	people := []scribe.Author{{Key: "a", Name: "A"}, {Key: "b", Name: "B"}, {Key: "c", Name: "C"}}
	for round := range 20000 {
		var a scribe.Authorship
		a.Authors = slices.Clone(people[:2])
		for range r.IntN(6) {
			a.Runs = push(a.Runs, 1+r.IntN(4), r.IntN(3)-1) // NoAuthor, a or b
		}
		n := Len(a)
		at := r.IntN(n + 1)
		b := ot.NewBuilder()
		b.Retain(at)
		del := 0
		if r.IntN(3) > 0 && at < n {
			del = 1 + r.IntN(n-at)
			b.Delete(del)
		} else {
			b.Insert(strings.Repeat("x", 1+r.IntN(3)))
		}
		b.Retain(n - at - del)
		op, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		who := people[r.IntN(3)]
		want := scribe.Authorship{Runs: slices.Clone(a.Runs), Authors: slices.Clone(a.Authors)}
		if err := apply(&want, op, func() int { return authorIndex(&want, who) }, nil); err != nil {
			t.Fatal(err)
		}
		got := scribe.Authorship{Runs: slices.Clone(a.Runs), Authors: slices.Clone(a.Authors)}
		if !applyEdit(&got, op, func() int { return authorIndex(&got, who) }) {
			t.Fatalf("round %d: applyEdit declined %v on %v", round, op, a.Runs)
		}
		if !slices.Equal(got.Runs, want.Runs) || !slices.Equal(got.Authors, want.Authors) {
			t.Fatalf("round %d: %v on %v:\n got %v %v\nwant %v %v", round, op, a.Runs, got.Runs, got.Authors, want.Runs, want.Authors)
		}
	}
	// Not merged, or two edits: declined, unchanged.
	a := scribe.Authorship{Runs: []scribe.AuthorRun{{Len: 1, Author: 0}, {Len: 1, Author: 0}}, Authors: people[:1]}
	ins, _ := ot.NewBuilder().Retain(1).Insert("x").Retain(1).Build()
	if applyEdit(&a, ins, func() int { return 0 }) || len(a.Runs) != 2 {
		t.Fatalf("applyEdit took unmerged runs: %v", a.Runs)
	}
	two, _ := ot.NewBuilder().Insert("x").Retain(1).Delete(1).Build()
	a.Runs = []scribe.AuthorRun{{Len: 2, Author: 0}}
	if applyEdit(&a, two, func() int { return 0 }) || a.Runs[0].Len != 2 {
		t.Fatalf("applyEdit took an op of two edits: %v", a.Runs)
	}
}
