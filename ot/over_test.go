package ot

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// randEdit returns a random keystroke-sized op on doc: one insert or one
// delete at a rune boundary, or now and then the identity; small documents
// make ties (same position, touching ranges) common.
func randEdit(t testing.TB, r *rand.Rand, doc string) Operation {
	units := runeUnits(doc)
	bounds := []int{0}
	for _, u := range units {
		bounds = append(bounds, bounds[len(bounds)-1]+u)
	}
	n := bounds[len(bounds)-1]
	b := NewBuilder()
	switch x := r.IntN(10); {
	case x == 0:
		b.Retain(n)
	case x < 5 || len(units) == 0:
		p := bounds[r.IntN(len(bounds))]
		b.Retain(p).Insert(randText(r, 1+r.IntN(3))).Retain(n - p)
	default:
		i := r.IntN(len(units))
		j := i + 1 + r.IntN(min(4, len(units)-i))
		b.Retain(bounds[i]).Delete(bounds[j] - bounds[i]).Retain(n - bounds[j])
	}
	op, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// transformOverSlow is TransformOver's definition: Transform step by step,
// with the general algorithm (Transform itself takes the same shortcut for
// two keystrokes as TransformOver).
func transformOverSlow(op Operation, over []Operation, sel Selection) (Operation, Selection, error) {
	sel = sel.Transform(NewBuilderRetain(op.TargetLen()))
	for _, o := range over {
		var oPrime Operation
		var err error
		if o.base != op.base {
			return Operation{}, nil, invalidf("transform: base lengths %d and %d differ", op.base, o.base)
		}
		if op, oPrime, err = transformGeneral(op, o); err != nil {
			return Operation{}, nil, err
		}
		sel = sel.Transform(oPrime)
	}
	return op, sel, nil
}

// NewBuilderRetain is the identity on a text of n units (it clamps a
// selection to the text).
func NewBuilderRetain(n int) Operation {
	op, _ := NewBuilder().Retain(n).Build()
	return op
}

// checkTransformOver fails unless TransformOver gives what the step by step
// definition gives, canonical, and leaves the caller's selection alone.
func checkTransformOver(t *testing.T, op Operation, over []Operation, sel Selection) {
	t.Helper()
	before := fmt.Sprint(sel)
	want, wantSel, err := transformOverSlow(op, over, sel)
	if err != nil {
		t.Fatal(err)
	}
	got, gotSel, err := TransformOver(op, over, sel)
	if err != nil {
		t.Fatal(err)
	}
	checkCanonical(t, got)
	if !got.Equal(want) || fmt.Sprint(gotSel) != fmt.Sprint(wantSel) {
		t.Fatalf("TransformOver(%s, %v, %v)\n = %s %v\nwant %s %v", op, over, sel, got, gotSel, want, wantSel)
	}
	if fmt.Sprint(sel) != before {
		t.Fatalf("TransformOver changed the caller's selection to %v", sel)
	}
}

func TestTransformOverMatches(t *testing.T) {
	for seed := range 5000 {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 77))
			doc := randText(r, r.IntN(8))
			pick := func(d string) Operation {
				if r.IntN(8) == 0 {
					return randOp(t, r, d) // now and then a general op
				}
				return randEdit(t, r, d)
			}
			op := pick(doc)
			var over []Operation
			d := doc
			for range r.IntN(12) {
				o := pick(d)
				over = append(over, o)
				var err error
				if d, err = Apply(d, o); err != nil {
					t.Fatal(err)
				}
			}
			var sel Selection
			if r.IntN(4) > 0 {
				for range 1 + r.IntN(3) {
					sel = append(sel, Range{r.IntN(op.TargetLen() + 3), r.IntN(op.TargetLen() + 3)})
				}
			}
			checkTransformOver(t, op, over, sel)
		})
	}
}

// Transform's shortcut for two keystrokes gives what the general algorithm
// gives, both halves.
func TestTransformSimpleMatches(t *testing.T) {
	for seed := range 20000 {
		r := rand.New(rand.NewPCG(uint64(seed), 78))
		doc := randText(r, r.IntN(8))
		a, b := randEdit(t, r, doc), randEdit(t, r, doc)
		a1, b1, err1 := Transform(a, b)
		a2, b2, err2 := transformGeneral(a, b)
		if err1 != nil || err2 != nil {
			t.Fatalf("seed %d: %v %v", seed, err1, err2)
		}
		checkCanonical(t, a1)
		checkCanonical(t, b1)
		if !a1.Equal(a2) || !b1.Equal(b2) {
			t.Fatalf("seed %d: Transform(%s, %s) = %s, %s; general %s, %s", seed, a, b, a1, b1, a2, b2)
		}
	}
}

func TestTransformOverErrors(t *testing.T) {
	a := mustOp(t, 2, "x")
	b := mustOp(t, 1, -1)
	if _, _, err := TransformOver(a, []Operation{b, b}, nil); err == nil {
		t.Fatal("over ops that do not chain: no error")
	}
	if _, _, err := TransformOver(a, []Operation{mustOp(t, 3)}, nil); err == nil {
		t.Fatal("base lengths differ: no error")
	}
}

// BenchmarkTransformOver is a server's work for a keystroke sent 100
// revisions behind: over 100 other keystrokes.
func BenchmarkTransformOver(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	doc := randText(r, 2000)
	op := randEdit(b, r, doc)
	var over []Operation
	d := doc
	for range 100 {
		o := randEdit(b, r, d)
		over = append(over, o)
		d, _ = Apply(d, o)
	}
	sel := Selection{{5, 5}}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := TransformOver(op, over, sel); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stepwise", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := transformOverSlow(op, over, sel); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestSelectionAppendJSON(t *testing.T) {
	for _, s := range []Selection{nil, {}, {{Anchor: 1, Head: 2}}, {{Anchor: 0, Head: 0}, {Anchor: MaxLength, Head: 7}}} {
		want, _ := json.Marshal(s)
		if s == nil {
			want = []byte("[]")
		}
		if got := s.AppendJSON([]byte("x")); string(got) != "x"+string(want) {
			t.Errorf("%v.AppendJSON = %s, want x%s", s, got, want)
		}
	}
}
