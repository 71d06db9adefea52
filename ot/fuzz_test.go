package ot

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// Fuzz targets. Their seed corpora live in testdata/fuzz/<FuzzName>/ and run
// with every plain `go test`; `make fuzz` runs each target for a while.

// checkErr fails unless err is an *Error with a known code.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || (e.Code != EINVALID && e.Code != ETOOLARGE) || e.Message == "" {
		t.Fatalf("error %v (%T) is not an *ot.Error with a known code", err, err)
	}
}

// FuzzApplyJSON decodes an operation from arbitrary bytes and applies it to
// an arbitrary document, as the server does with a client's frame. Whatever
// the input: no panic; every failure is an *Error; what is accepted is valid
// JSON that encoding/json decodes to the same items; it round-trips; and
// Document.Apply agrees with Apply.
func FuzzApplyJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		op, err := ParseJSON(data)
		if err != nil {
			checkErr(t, err)
			return
		}
		checkCanonical(t, op)
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var items []any
		if err := json.Unmarshal(data, &items); err != nil {
			t.Fatalf("encoding/json rejects accepted %q: %v", data, err)
		}
		b := NewBuilder()
		for _, it := range items {
			switch v := it.(type) {
			case string:
				b.Insert(v)
			case float64:
				if v > 0 {
					b.Retain(int(v))
				} else {
					b.Delete(int(-v))
				}
			default:
				t.Fatalf("accepted item %v of type %T", it, it)
			}
		}
		std, err := b.Build()
		if err != nil || !std.Equal(op) {
			t.Fatalf("encoding/json reads %q as %s (%v), we read %s", data, std, err, op)
		}
		out, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(out)
		if err != nil || !back.Equal(op) {
			t.Fatalf("round trip of %s gave %s, %v", op, back, err)
		}

		res, err := Apply(doc, op)
		d, derr := NewDocument(doc)
		if derr != nil {
			checkErr(t, derr)
			if err == nil {
				t.Fatalf("Apply accepted invalid UTF-8 document %q", doc)
			}
			return
		}
		if err != nil {
			checkErr(t, err)
			if err := d.Apply(op); err == nil {
				t.Fatalf("Document.Apply accepted %s on %q, Apply said %v", op, doc, err)
			}
			if d.String() != doc {
				t.Fatalf("failed Document.Apply changed %q to %q", doc, d.String())
			}
			return
		}
		if !utf8.ValidString(res) || Len16(res) != op.TargetLen() {
			t.Fatalf("Apply(%q, %s) = %q: not UTF-8 or not of length %d", doc, op, res, op.TargetLen())
		}
		inv, err := Invert(op, doc)
		if err != nil {
			t.Fatalf("Invert(%s, %q): %v", op, doc, err)
		}
		if again := mustApply(t, res, inv); again != doc {
			t.Fatalf("inverse of %s on %q gives %q", op, doc, again)
		}
		if err := d.Apply(op); err != nil {
			t.Fatalf("Document.Apply(%s) on %q: %v", op, doc, err)
		}
		if d.String() != res {
			t.Fatalf("Document.Apply(%s) on %q = %q, Apply = %q", op, doc, d.String(), res)
		}
	})
}

// opFromBytes turns fuzz bytes into a valid operation on doc (valid UTF-8),
// so the fuzzer explores the algorithms rather than length mismatches. Each
// byte chooses a component and its length in characters; inserts draw from
// pieces.
func opFromBytes(doc string, data []byte) Operation {
	units := runeUnits(doc)
	b := NewBuilder()
	i := 0
	for _, c := range data {
		k := int(c>>2)%6 + 1
		switch c & 3 {
		case 0, 1:
			n := 0
			for ; k > 0 && i < len(units); k-- {
				n += units[i]
				i++
			}
			if c&3 == 0 {
				b.Retain(n)
			} else {
				b.Delete(n)
			}
		default:
			b.Insert(pieces[int(c>>2)%len(pieces)])
		}
	}
	n := 0
	for _, u := range units[i:] {
		n += u
	}
	op, _ := b.Retain(n).Build() // cannot fail: every length is small
	return op
}

// FuzzTransform checks, for two operations made concurrently on one
// document: convergence of Transform, Compose against sequential Apply,
// Invert, the Document, and cursors staying inside the document.
func FuzzTransform(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc string, x, y []byte) {
		if !utf8.ValidString(doc) {
			_, err := NewDocument(doc)
			checkErr(t, err)
			return
		}
		a, b := opFromBytes(doc, x), opFromBytes(doc, y)
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Fatalf("Transform(%s, %s): %v", a, b, err)
		}
		checkCanonical(t, ap)
		checkCanonical(t, bp)
		sa, sb := mustApply(t, doc, a), mustApply(t, doc, b)
		left, right := mustApply(t, sa, bp), mustApply(t, sb, ap)
		if left != right {
			t.Fatalf("doc %q, a %s, b %s: a;b' = %q, b;a' = %q", doc, a, b, left, right)
		}
		c, err := Compose(a, bp)
		if err != nil {
			t.Fatalf("Compose(%s, %s): %v", a, bp, err)
		}
		checkCanonical(t, c)
		if got := mustApply(t, doc, c); got != left {
			t.Fatalf("Compose(%s, %s) on %q = %q, want %q", a, bp, doc, got, left)
		}
		inv, err := Invert(c, doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, left, inv); got != doc {
			t.Fatalf("inverse of %s gives %q, want %q", c, got, doc)
		}
		d, err := NewDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []Operation{a, bp, inv, b, ap} {
			if err := d.Apply(op); err != nil {
				t.Fatalf("Document.Apply(%s): %v", op, err)
			}
		}
		checkTree(t, d.root)
		if d.String() != right || d.UTF8Len() != len(right) {
			t.Fatalf("Document ends as %q, want %q", d.String(), right)
		}
		step := max(1, a.BaseLen()/32) // sample: each call walks all of a
		for pos := -1; pos <= a.BaseLen()+1; pos += step {
			if p := TransformIndex(pos, a); p < 0 || p > a.TargetLen() {
				t.Fatalf("TransformIndex(%d, %s) = %d", pos, a, p)
			}
		}
	})
}

// FuzzTransformOver checks TransformOver (and Transform's shortcut for two
// keystrokes, which FuzzTransform reaches too) against the general
// algorithm step by step: an op over a chain of ops made one after another
// on doc, with a selection. Each chunk of over's bytes makes one op; short
// chunks make keystroke-sized ops, which take the shortcut.
func FuzzTransformOver(f *testing.F) {
	f.Add("hello 😀 world", []byte{4, 1}, []byte{8, 2, 0, 9, 5, 0, 3, 6}, 3, 5)
	f.Add("ab", []byte{2}, []byte{1, 0, 2, 0, 6, 0, 5}, 0, 9)
	f.Fuzz(func(t *testing.T, doc string, x, y []byte, anchor, head int) {
		if !utf8.ValidString(doc) || len(y) > 64 {
			return
		}
		op := opFromBytes(doc, x)
		var over []Operation
		d := doc
		for _, chunk := range bytes.Split(y, []byte{0}) {
			o := opFromBytes(d, chunk)
			over = append(over, o)
			d = mustApply(t, d, o)
		}
		checkTransformOver(t, op, over, Selection{{Anchor: anchor, Head: head}})
	})
}
