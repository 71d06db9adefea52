package ot

import (
	"strings"
	"testing"
)

func TestInvert(t *testing.T) {
	tests := []struct {
		doc  string
		op   []any
		want string
	}{
		{"", nil, `[]`},
		{"", []any{"abc"}, `[-3]`},
		{"abc", []any{-3}, `["abc"]`},
		{"a😀b", []any{1, "日", -2, 1}, `[1,"😀",-1,1]`},
		{"a\r\nb", []any{1, -2, 1}, `[1,"\r\n",1]`},
	}
	for _, tt := range tests {
		op := mustOp(t, tt.op...)
		inv, err := Invert(op, tt.doc)
		if err != nil {
			t.Errorf("Invert(%s, %q): %v", op, tt.doc, err)
			continue
		}
		if inv.String() != tt.want {
			t.Errorf("Invert(%s, %q) = %s, want %s", op, tt.doc, inv, tt.want)
		}
	}
	_, err := Invert(mustOp(t, 2), "abc")
	wantCode(t, err, EINVALID)
	_, err = Invert(mustOp(t, 1, -1, 1), "😀")
	wantCode(t, err, EINVALID)
}

func TestTransformIndex(t *testing.T) {
	op := mustOp(t, 2, "xy", 2, -2, 1) // "abcdefg" -> "abxycdg"
	tests := []struct{ pos, want int }{
		{-1, 0}, {0, 0}, {1, 1}, {2, 4}, {3, 5}, {4, 6}, {5, 6}, {6, 6}, {7, 7}, {99, 7},
	}
	for _, tt := range tests {
		if got := TransformIndex(tt.pos, op); got != tt.want {
			t.Errorf("TransformIndex(%d, %s) = %d, want %d", tt.pos, op, got, tt.want)
		}
	}
	// Emoji count two units: a cursor after "😀" in "😀a" is at 2.
	if got := TransformIndex(2, mustOp(t, "日", 3)); got != 3 {
		t.Errorf("TransformIndex over a CJK insert = %d, want 3", got)
	}
	if got := TransformIndex(0, Operation{}); got != 0 {
		t.Errorf("TransformIndex on the empty operation = %d, want 0", got)
	}
	sel := Selection{{Anchor: 1, Head: 5}, {Anchor: 3, Head: 3}}
	got := sel.Transform(op)
	want := Selection{{Anchor: 1, Head: 6}, {Anchor: 5, Head: 5}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Selection.Transform = %v, want %v", got, want)
		}
	}
	wantCode(t, Selection{{0, 8}}.Validate(7), EINVALID)
	wantCode(t, Selection{{-1, 0}}.Validate(7), EINVALID)
	if err := (Selection{{0, 7}}).Validate(7); err != nil {
		t.Fatal(err)
	}
}

func TestDocument(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		ops  [][]any
		want string
	}{
		{"empty", "", nil, ""},
		{"type into empty", "", [][]any{{"h"}, {1, "i"}, {"¡", 2}}, "¡hi"},
		{"delete all", "héllo 😀", [][]any{{-8}}, ""},
		{"emoji and CJK", "a😀b日", [][]any{{3, "😎", 2}, {1, -2, 4}}, "a😎b日"},
		{"CRLF", "a\r\nb", [][]any{{1, -2, "\n", 1}}, "a\nb"},
		{"combining", "e\u0301", [][]any{{1, -1}}, "e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDocument(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, items := range tt.ops {
				if err := d.Apply(mustOp(t, items...)); err != nil {
					t.Fatal(err)
				}
			}
			if d.String() != tt.want || d.Len() != Len16(tt.want) || d.UTF8Len() != len(tt.want) {
				t.Fatalf("got %q (len %d), want %q", d.String(), d.Len(), tt.want)
			}
		})
	}
}

func TestDocumentErrorsChangeNothing(t *testing.T) {
	_, err := NewDocument("a\xffb")
	wantCode(t, err, EINVALID)

	text := "ab😀cd"
	d, err := NewDocument(text)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]any{
		{5},                // too short
		{7},                // too long
		{1, "x", 2, -1, 3}, // the delete starts inside the pair
		{"x", 3, "y", 3},   // the second retain boundary is inside the pair
		{-3, 3},            // the delete ends inside the pair
		{1, "x", 4, "y"},   // first edit fine, the length is not
		{2, -2, "x", -1},   // deletes then fails on the length
	}
	for _, items := range bad {
		op := mustOp(t, items...)
		err := d.Apply(op)
		if err == nil {
			t.Fatalf("Apply(%s) on %q succeeded", op, text)
		}
		wantCode(t, err, EINVALID)
		if d.String() != text || d.Len() != 6 || d.UTF8Len() != len(text) {
			t.Fatalf("failed Apply(%s) changed the document to %q", op, d.String())
		}
	}
	for _, r := range [][2]int{{-1, 2}, {2, 1}, {0, 7}, {3, 6}, {0, 3}} {
		if _, err := d.Slice(r[0], r[1]); err == nil {
			t.Errorf("Slice(%d, %d) succeeded", r[0], r[1])
		}
	}
	if s, err := d.Slice(2, 4); err != nil || s != "😀" {
		t.Fatalf("Slice(2, 4) = %q, %v", s, err)
	}
}

// TestDocumentChunks drives the chunked representation through its edge
// cases: surrogate pairs straddling chunk boundaries, chunks filling up and
// halving, large inserts and deletes spanning many chunks.
func TestDocumentChunks(t *testing.T) {
	// 511 ASCII units then emoji: the pair straddles the 512-unit chunk edge.
	text := strings.Repeat("a", initChunk-1) + strings.Repeat("😀", 600) + strings.Repeat("b", 3000)
	d, err := NewDocument(text)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != text {
		t.Fatal("String() differs from the loaded text")
	}
	if s, _ := d.Slice(initChunk-1, initChunk+1); s != "😀" {
		t.Fatalf("Slice across the chunk edge = %q", s)
	}
	n := d.Len()
	steps := 0
	apply := func(items ...any) {
		t.Helper()
		op := mustOp(t, items...)
		want := mustApply(t, text, op)
		if err := d.Apply(op); err != nil {
			t.Fatal(err)
		}
		text = want
		n = Len16(text)
		// Check one-unit edits only now and then (each check is O(n)).
		if steps++; steps%50 != 0 && op.InsertedLen() <= 1 && op.BaseLen()-op.TargetLen() <= 1 {
			return
		}
		checkTree(t, d.root)
		if d.String() != text || d.Len() != n || d.UTF8Len() != len(text) {
			t.Fatalf("after %.60s...: document differs", op)
		}
	}
	// Fill one chunk past its capacity one unit at a time.
	for i := range 2 * maxChunk {
		apply(2000+i, "x", n-2000-i)
	}
	apply(10, strings.Repeat("日本", 3000), n-10) // a large insert
	for range 300 {                             // backspace from the end
		apply(n-1, -1)
	}
	apply(5, -(n - 10), 5) // a delete spanning most chunks
	apply(-n, "fresh")
}

// TestReplayTrace replays the start of the benchmark's typing session on a
// Document and on a plain string: they agree at every checkpoint.
func TestReplayTrace(t *testing.T) {
	ops := traceOps(t, typingTrace(20_000))
	d, err := NewDocument("")
	if err != nil {
		t.Fatal(err)
	}
	s := ""
	for i, op := range ops {
		if err := d.Apply(op); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
		s = mustApply(t, s, op)
		if i%5000 == 0 || i == len(ops)-1 {
			if d.String() != s {
				t.Fatalf("edit %d: the Document differs from the string", i)
			}
		}
	}
	if d.Len() < 5_000 {
		t.Fatalf("the trace grew the document to only %d units", d.Len())
	}
}

// TestDocumentSingleEdits applies keystroke-shaped operations (one insert
// or one delete between retains, Apply's fast path) at every position
// around chunk edges that surrogate pairs straddle, and checks each against
// the string Apply: the same error or the same text.
func TestDocumentSingleEdits(t *testing.T) {
	// The pairs start at 511: the chunk edges at 512 and 1024 fall inside one.
	text := strings.Repeat("a", initChunk-1) + strings.Repeat("😀", 600) + "bcd"
	d, err := NewDocument(text)
	if err != nil {
		t.Fatal(err)
	}
	n := Len16(text)
	var positions []int
	for _, edge := range []int{0, initChunk, 2 * initChunk, n} {
		for p := max(edge-4, 0); p <= min(edge+4, n); p++ {
			positions = append(positions, p)
		}
	}
	for _, p := range positions {
		var builders []*Builder
		for _, s := range []string{"x", "😀"} {
			builders = append(builders, NewBuilder().Retain(p).Insert(s).Retain(n-p))
		}
		for k := 1; k <= 3 && p+k <= n; k++ {
			builders = append(builders, NewBuilder().Retain(p).Delete(k).Retain(n-p-k))
		}
		var ops []Operation
		for _, b := range builders {
			op, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		for _, op := range ops {
			want, wantErr := Apply(text, op)
			inv, _ := Invert(op, text)
			err := d.Apply(op)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("Apply(%s): %v; the string Apply: %v", op, err, wantErr)
			}
			if err != nil {
				wantCode(t, err, EINVALID)
				if d.String() != text {
					t.Fatalf("failed Apply(%s) changed the document", op)
				}
				continue
			}
			if d.String() != want || d.Len() != Len16(want) || d.UTF8Len() != len(want) {
				t.Fatalf("Apply(%s): the document differs from the string Apply", op)
			}
			checkTree(t, d.root)
			if err := d.Apply(inv); err != nil {
				t.Fatalf("undoing %s: %v", op, err)
			}
			if d.String() != text {
				t.Fatalf("undoing %s did not restore the text", op)
			}
		}
	}
}

// TestDocumentPairArrives starts from text without surrogate pairs, where
// Apply checks no boundary, brings a pair in each way an insert can, and
// checks that a boundary inside it is then rejected.
func TestDocumentPairArrives(t *testing.T) {
	big := strings.Repeat("😀", maxChunk) // inserted as chunks of its own
	for _, tc := range []struct {
		name string
		op   []any
		at   int // where the first pair starts
	}{
		{"keystroke", []any{2, "😀", 3}, 2},
		{"several edits", []any{1, "x", 1, "😀", 2, -1}, 3},
		{"large insert", []any{5, big}, 5},
		{"replace all", []any{"ab😀cd", -5}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDocument("hello")
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Apply(mustOp(t, tc.op...)); err != nil {
				t.Fatal(err)
			}
			text, n := d.String(), d.Len()
			for _, items := range [][]any{
				{tc.at + 1, "x", n - tc.at - 1},      // insert inside the pair
				{tc.at, -1, n - tc.at - 1},           // delete half of it
				{tc.at + 1, -1, n - tc.at - 2},       // the other half
				{"y", tc.at + 1, "x", n - tc.at - 1}, // the general path
				{tc.at + 1, -1, n - tc.at - 2, "z"},  // the general path
			} {
				op := mustOp(t, items...)
				wantCode(t, d.Apply(op), EINVALID)
				if d.String() != text {
					t.Fatalf("failed Apply(%s) changed the document", op)
				}
			}
			if _, err := d.Slice(0, tc.at+1); err == nil {
				t.Fatalf("Slice(0, %d) splits a pair and succeeded", tc.at+1)
			}
		})
	}
}
