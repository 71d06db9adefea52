package ot

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Benchmarks for docs/benchmarks.md ("OT core"); run with `make bench`.

var benchSizes = []struct {
	name string
	n    int
}{{"1KB", 1 << 10}, {"10KB", 10 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}}

// benchText returns n units of prose-like ASCII text.
func benchText(n int) string {
	words := []string{"the ", "note ", "of ", "Scribe ", "edits ", "text ", "and\n", "a ", "markdown ", "# heading\n"}
	r := rand.New(rand.NewPCG(7, 7))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[r.IntN(len(words))])
	}
	return sb.String()[:n]
}

// spreadOp returns an operation on a document of length n making k edits
// (alternately a short insert and a short delete) spread over it.
func spreadOp(b testing.TB, n, k, seed int) Operation {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	bl := NewBuilder()
	pos := 0
	step := n / (k + 1)
	for i := range k {
		skip := step/2 + r.IntN(step/2)
		bl.Retain(skip)
		pos += skip
		if i%2 == 0 {
			bl.Insert("word ")
		} else {
			bl.Delete(3)
			pos += 3
		}
	}
	bl.Retain(n - pos)
	op, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	return op
}

// BenchmarkApply applies an 8-edit operation to a plain string.
func BenchmarkApply(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			doc := benchText(sz.n)
			op := spreadOp(b, sz.n, 8, 1)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if _, err := Apply(doc, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransform transforms two concurrent 8-edit operations.
func BenchmarkTransform(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			x, y := spreadOp(b, sz.n, 8, 1), spreadOp(b, sz.n, 8, 2)
			for b.Loop() {
				if _, _, err := Transform(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransformTyping transforms two concurrent keystrokes on a 100 KB
// note, what the server does for every operation that arrives one revision
// behind: each is [retain, insert "x", retain] or [retain, delete 1, retain].
func BenchmarkTransformTyping(b *testing.B) {
	const n = 100 << 10
	ins := func(pos int, s string) Operation { return mustOp(b, pos, s, n-pos) }
	del := func(pos int) Operation { return mustOp(b, pos, -1, n-pos-1) }
	for _, bc := range []struct {
		name string
		x, y Operation
	}{
		{"insert-insert", ins(48213, "x"), ins(51987, "y")},
		{"insert-delete", ins(51987, "x"), del(48213)},
		{"delete-delete", del(48213), del(51987)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Transform(bc.x, bc.y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelectionTransform moves a cursor and a two-range selection
// through a keystroke, what the server does for every presence update.
func BenchmarkSelectionTransform(b *testing.B) {
	const n = 100 << 10
	op := mustOp(b, 48213, "x", n-48213)
	b.Run("Range", func(b *testing.B) {
		r := Range{Anchor: 50000, Head: 50000}
		for b.Loop() {
			r = r.Transform(op)
			r.Anchor, r.Head = 50000, 50000
		}
	})
	b.Run("Selection", func(b *testing.B) {
		sel := Selection{{Anchor: 100, Head: 200}, {Anchor: 60000, Head: 50000}}
		for b.Loop() {
			_ = sel.Transform(op)
		}
	})
}

// BenchmarkCompose composes two consecutive 8-edit operations.
func BenchmarkCompose(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			x := spreadOp(b, sz.n, 8, 1)
			y := spreadOp(b, x.TargetLen(), 8, 2)
			for b.Loop() {
				if _, err := Compose(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshal decodes a typical keystroke operation.
func BenchmarkUnmarshal(b *testing.B) {
	data := []byte(`[48213,"é",51987]`)
	var op Operation
	for b.Loop() {
		if err := op.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkString encodes a keystroke operation and an 8-edit one to their
// JSON form, what the server does for every broadcast.
func BenchmarkString(b *testing.B) {
	for _, bc := range []struct {
		name string
		op   Operation
	}{
		{"keystroke", mustOp(b, 48213, "é", 51987)},
		{"8-edits", spreadOp(b, 100<<10, 8, 1)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_ = bc.op.String()
			}
		})
	}
}

// BenchmarkDocumentApply applies an 8-edit operation to a Document, undoing
// it again so the document keeps its size (the figure is for both).
func BenchmarkDocumentApply(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			doc := benchText(sz.n)
			d, err := NewDocument(doc)
			if err != nil {
				b.Fatal(err)
			}
			op := spreadOp(b, sz.n, 8, 1)
			inv, err := Invert(op, doc)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := d.Apply(op); err != nil {
					b.Fatal(err)
				}
				if err := d.Apply(inv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// keystroke is one edit of a trace: insert ch at pos, or delete the unit
// at pos when ch is "".
type keystroke struct {
	pos int
	ch  string
}

// typingTrace returns n single-character edits of a human typist
// (deterministic): about 70% inserts and 30% backspaces at a cursor that
// mostly moves with the typing, sometimes a few characters away, rarely
// anywhere in the document. It starts from an empty document; with n =
// 260,000 the document grows to about 100 KB.
func typingTrace(n int) []keystroke {
	r := rand.New(rand.NewPCG(2026, 11))
	chars := "etaoinshrdlcumwfgypbvkjxqz     ,.\n"
	trace := make([]keystroke, 0, n)
	length, cursor := 0, 0
	for len(trace) < n {
		switch p := r.IntN(1000); {
		case p < 10 && length > 0: // jump anywhere
			cursor = r.IntN(length + 1)
		case p < 40: // move a little
			cursor = min(max(cursor+r.IntN(81)-40, 0), length)
		}
		if r.IntN(10) < 3 && cursor > 0 {
			cursor--
			trace = append(trace, keystroke{pos: cursor})
			length--
			continue
		}
		ch := string(chars[r.IntN(len(chars))])
		if r.IntN(200) == 0 {
			ch = "é"
		}
		trace = append(trace, keystroke{pos: cursor, ch: ch})
		cursor++
		length++
	}
	return trace
}

// traceOps turns a trace into the operations a server would receive.
func traceOps(tb testing.TB, trace []keystroke) []Operation {
	ops := make([]Operation, len(trace))
	length := 0
	for i, k := range trace {
		b := NewBuilder().Retain(k.pos)
		if k.ch == "" {
			b.Delete(1).Retain(length - k.pos - 1)
			length--
		} else {
			b.Insert(k.ch).Retain(length - k.pos)
			length++
		}
		var err error
		if ops[i], err = b.Build(); err != nil {
			tb.Fatal(err)
		}
	}
	return ops
}

const traceLen = 260_000

// BenchmarkReplay applies a 260,000-keystroke typing session, edit by edit,
// to a Document, as the server applies committed operations. The reported
// ns/op is for the whole replay; ns/edit is per keystroke.
func BenchmarkReplay(b *testing.B) {
	ops := traceOps(b, typingTrace(traceLen))
	b.ResetTimer()
	var d *Document
	for b.Loop() {
		d, _ = NewDocument("")
		for _, op := range ops {
			if err := d.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/traceLen, "ns/edit")
	b.ReportMetric(float64(d.Len()), "final-units")
	b.ReportMetric(float64(depth(d.root)), "tree-depth")
}

// BenchmarkReplayJSON is BenchmarkReplay with each edit decoded from its
// JSON wire form first, as the server receives it.
func BenchmarkReplayJSON(b *testing.B) {
	ops := traceOps(b, typingTrace(traceLen))
	frames := make([][]byte, len(ops))
	for i, op := range ops {
		frames[i], _ = op.MarshalJSON()
	}
	b.ResetTimer()
	for b.Loop() {
		d, _ := NewDocument("")
		for _, f := range frames {
			op, err := ParseJSON(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := d.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/traceLen, "ns/edit")
}

// BenchmarkReplayString replays the same session on a plain string, copied
// on every edit: the naive representation, for comparison.
func BenchmarkReplayString(b *testing.B) {
	ops := traceOps(b, typingTrace(traceLen))
	b.ResetTimer()
	for b.Loop() {
		doc := ""
		for _, op := range ops {
			var err error
			if doc, err = Apply(doc, op); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/traceLen, "ns/edit")
}

// BenchmarkKeystroke measures one keystroke (a one-character insert, then
// its deletion, so the size stays put) near a moving cursor, on documents of
// 10 KB, 100 KB and 1 MB: the Document's cost should barely grow, a plain
// string's grows linearly.
func BenchmarkKeystroke(b *testing.B) {
	for _, sz := range benchSizes[1:] {
		doc := benchText(sz.n)
		ins := make([]Operation, 64)
		del := make([]Operation, 64)
		for i := range ins {
			pos := sz.n/3 + i*997%(sz.n/2)
			ins[i] = mustOp(b, pos, "x", sz.n-pos)
			del[i] = mustOp(b, pos, -1, sz.n-pos)
		}
		b.Run("Document/"+sz.name, func(b *testing.B) {
			d, _ := NewDocument(doc)
			i := 0
			for b.Loop() {
				if err := d.Apply(ins[i%64]); err != nil {
					b.Fatal(err)
				}
				if err := d.Apply(del[i%64]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			// The machine-independent part of the cost: the tree's depth.
			b.ReportMetric(float64(depth(d.root)), "tree-depth")
		})
		b.Run("String/"+sz.name, func(b *testing.B) {
			s := doc
			i := 0
			for b.Loop() {
				s, _ = Apply(s, ins[i%64])
				s, _ = Apply(s, del[i%64])
				i++
			}
			_ = fmt.Sprint(len(s))
		})
	}
}

// BenchmarkDocumentLoad measures NewDocument and String, what loading a
// note and writing a snapshot cost.
func BenchmarkDocumentLoad(b *testing.B) {
	for _, sz := range benchSizes {
		text := benchText(sz.n)
		b.Run("NewDocument/"+sz.name, func(b *testing.B) {
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if _, err := NewDocument(text); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("String/"+sz.name, func(b *testing.B) {
			d, _ := NewDocument(text)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				_ = d.String()
			}
		})
	}
}
