package ot

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Property tests: each case draws from its own seed, so a failure prints the
// seed and `go test -run 'TestProperty.../seed=N'` reruns exactly that case.

// pieces are the characters random documents are made of: ASCII, accented
// Latin, a combining mark, CJK, astral emoji (two UTF-16 units each), CRLF.
var pieces = []string{
	"a", "b", "c", "x", " ", "\n", "\r\n", "é", "e\u0301", "日", "本", "😀", "👍🏽", "𝄞", "\t", "\"", "\\",
}

// randText returns a random text of about n characters.
func randText(r *rand.Rand, n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

// runeUnits returns the UTF-16 length of each rune of s.
func runeUnits(s string) []int {
	var u []int
	for _, r := range s {
		if r >= 0x10000 {
			u = append(u, 2)
		} else {
			u = append(u, 1)
		}
	}
	return u
}

// randOp returns a random operation on doc whose boundaries never split a
// surrogate pair.
func randOp(t testing.TB, r *rand.Rand, doc string) Operation {
	units := runeUnits(doc)
	b := NewBuilder()
	for i := 0; i < len(units); {
		k := 1 + r.IntN(min(len(units)-i, 8))
		n := 0
		for _, u := range units[i : i+k] {
			n += u
		}
		switch r.IntN(4) {
		case 0:
			b.Delete(n)
		case 1:
			b.Insert(randText(r, 1+r.IntN(4)))
			b.Retain(n)
		default:
			b.Retain(n)
		}
		i += k
	}
	if r.IntN(3) == 0 {
		b.Insert(randText(r, 1+r.IntN(3)))
	}
	op, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// checkCanonical fails unless op is in canonical form with correct lengths.
func checkCanonical(t testing.TB, op Operation) {
	t.Helper()
	base, target := 0, 0
	for i, c := range op.comps {
		if c.n <= 0 {
			t.Fatalf("%s: empty component %d", op, i)
		}
		if c.k == kInsert && Len16(c.s) != c.n {
			t.Fatalf("%s: insert %d caches length %d, want %d", op, i, c.n, Len16(c.s))
		}
		if i > 0 {
			p := op.comps[i-1]
			if p.k == c.k {
				t.Fatalf("%s: components %d and %d are both of kind %d", op, i-1, i, c.k)
			}
			if p.k == kDelete && c.k == kInsert {
				t.Fatalf("%s: insert %d follows a delete", op, i)
			}
		}
		if c.k != kInsert {
			base += c.n
		}
		if c.k != kDelete {
			target += c.n
		}
	}
	if base != op.base || target != op.target {
		t.Fatalf("%s: lengths %d, %d cached as %d, %d", op, base, target, op.base, op.target)
	}
}

// forSeeds runs f for n seeds, each as a subtest named by its seed.
func forSeeds(t *testing.T, n int, f func(t *testing.T, r *rand.Rand)) {
	if testing.Short() {
		n /= 10
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		r := rand.New(rand.NewPCG(seed, 0x5c71be))
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { f(t, r) })
		if !ok {
			t.Fatalf("failed with seed %d", seed)
		}
	}
}

func TestPropertyTransform(t *testing.T) {
	forSeeds(t, 3000, func(t *testing.T, r *rand.Rand) {
		doc := randText(r, r.IntN(30))
		a, b := randOp(t, r, doc), randOp(t, r, doc)
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Fatalf("Transform(%s, %s): %v", a, b, err)
		}
		checkCanonical(t, ap)
		checkCanonical(t, bp)
		left := mustApply(t, mustApply(t, doc, a), bp)
		right := mustApply(t, mustApply(t, doc, b), ap)
		if left != right {
			t.Fatalf("doc %q, a %s, b %s: a;b' = %q, b;a' = %q", doc, a, b, left, right)
		}
	})
}

func TestPropertyCompose(t *testing.T) {
	forSeeds(t, 3000, func(t *testing.T, r *rand.Rand) {
		doc := randText(r, r.IntN(30))
		a := randOp(t, r, doc)
		mid := mustApply(t, doc, a)
		b := randOp(t, r, mid)
		c, err := Compose(a, b)
		if err != nil {
			t.Fatalf("Compose(%s, %s): %v", a, b, err)
		}
		checkCanonical(t, c)
		if got, want := mustApply(t, doc, c), mustApply(t, mid, b); got != want {
			t.Fatalf("doc %q, a %s, b %s: compose gives %q, want %q", doc, a, b, got, want)
		}
	})
}

func TestPropertyInvert(t *testing.T) {
	forSeeds(t, 3000, func(t *testing.T, r *rand.Rand) {
		doc := randText(r, r.IntN(30))
		op := randOp(t, r, doc)
		inv, err := Invert(op, doc)
		if err != nil {
			t.Fatalf("Invert(%s, %q): %v", op, doc, err)
		}
		checkCanonical(t, inv)
		if got := mustApply(t, mustApply(t, doc, op), inv); got != doc {
			t.Fatalf("op %s then its inverse %s on %q gives %q", op, inv, doc, got)
		}
		// Composing an operation with its inverse changes nothing.
		c, err := Compose(op, inv)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, doc, c); got != doc {
			t.Fatalf("Compose(op, inverse) on %q gives %q", doc, got)
		}
	})
}

func TestPropertyJSON(t *testing.T) {
	forSeeds(t, 3000, func(t *testing.T, r *rand.Rand) {
		op := randOp(t, r, randText(r, r.IntN(30)))
		data, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		var back Operation
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", data, err)
		}
		if !back.Equal(op) {
			t.Fatalf("round trip of %s gave %s", op, back)
		}
		// encoding/json's own encoding of the items decodes to the same op.
		items := []any{}
		for _, c := range op.Components() {
			switch {
			case c.Retain > 0:
				items = append(items, c.Retain)
			case c.Delete > 0:
				items = append(items, -c.Delete)
			default:
				items = append(items, c.Insert)
			}
		}
		std, err := json.Marshal(items)
		if err != nil {
			t.Fatal(err)
		}
		back = Operation{}
		if err := json.Unmarshal(std, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", std, err)
		}
		if !back.Equal(op) {
			t.Fatalf("encoding/json form %s decoded to %s, want %s", std, back, op)
		}
	})
}

func TestPropertyCursor(t *testing.T) {
	forSeeds(t, 3000, func(t *testing.T, r *rand.Rand) {
		doc := randText(r, r.IntN(30))
		op := randOp(t, r, doc)
		n := op.BaseLen()
		prev := -1
		for pos := -2; pos <= n+2; pos++ {
			got := TransformIndex(pos, op)
			if got < 0 || got > op.TargetLen() {
				t.Fatalf("TransformIndex(%d, %s) = %d, outside [0, %d]", pos, op, got, op.TargetLen())
			}
			if got < prev {
				t.Fatalf("TransformIndex(%d, %s) = %d, before the previous position's %d", pos, op, got, prev)
			}
			prev = got
		}
		sel := Selection{{r.IntN(n + 1), r.IntN(n + 1)}, {-5, n + 5}}
		out := sel.Transform(op)
		if err := out.Validate(op.TargetLen()); err != nil {
			t.Fatalf("%v transformed by %s: %v", sel, op, err)
		}
	})
}

func TestPropertyDocument(t *testing.T) {
	forSeeds(t, 150, func(t *testing.T, r *rand.Rand) {
		doc := randText(r, r.IntN(2000))
		d, err := NewDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		for step := range 30 {
			op := randOp(t, r, doc)
			if r.IntN(4) == 0 { // a typist's edit: one insert or delete
				op = randSmallEdit(t, r, doc)
			}
			inv, err := d.Invert(op)
			if err != nil {
				t.Fatalf("step %d: Document.Invert(%s): %v", step, op, err)
			}
			if want, _ := Invert(op, doc); !inv.Equal(want) {
				t.Fatalf("step %d: Document.Invert(%s) = %s, want %s", step, op, inv, want)
			}
			want := mustApply(t, doc, op)
			if err := d.Apply(op); err != nil {
				t.Fatalf("step %d: Document.Apply(%s): %v", step, op, err)
			}
			if got := d.String(); got != want {
				t.Fatalf("step %d: Document.Apply(%s) gives %q, want %q", step, op, got, want)
			}
			checkTree(t, d.root)
			if d.Len() != Len16(want) || d.UTF8Len() != len(want) {
				t.Fatalf("step %d: Len(), UTF8Len() = %d, %d, want %d, %d", step, d.Len(), d.UTF8Len(), Len16(want), len(want))
			}
			doc = want
			// A slice between two rune boundaries equals the substring.
			units := runeUnits(doc)
			i, j := r.IntN(len(units)+1), r.IntN(len(units)+1)
			i, j = min(i, j), max(i, j)
			from, to := 0, 0
			for _, u := range units[:i] {
				from += u
			}
			to = from
			for _, u := range units[i:j] {
				to += u
			}
			got, err := d.Slice(from, to)
			if err != nil {
				t.Fatalf("Slice(%d, %d): %v", from, to, err)
			}
			if rs := []rune(doc); got != string(rs[i:j]) {
				t.Fatalf("Slice(%d, %d) = %q, want %q", from, to, got, string(rs[i:j]))
			}
		}
	})
}

// randSmallEdit returns a single-character insert or delete on doc.
func randSmallEdit(t testing.TB, r *rand.Rand, doc string) Operation {
	units := runeUnits(doc)
	i := r.IntN(len(units) + 1)
	pos := 0
	for _, u := range units[:i] {
		pos += u
	}
	n := Len16(doc)
	b := NewBuilder().Retain(pos)
	if i < len(units) && r.IntN(3) == 0 {
		b.Delete(units[i]).Retain(n - pos - units[i])
	} else {
		b.Insert(pieces[r.IntN(len(pieces))]).Retain(n - pos)
	}
	op, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return op
}
