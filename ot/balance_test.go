package ot

import (
	"math"
	"testing"
)

func depth(t *node) int {
	if t == nil {
		return 0
	}
	return 1 + max(depth(t.left), depth(t.right))
}

func countNodes(t *node) int {
	if t == nil {
		return 0
	}
	return 1 + countNodes(t.left) + countNodes(t.right)
}

// checkTree fails unless every node's cached size is right, no chunk is
// empty or over maxChunk, and priorities form a heap.
func checkTree(tb testing.TB, t *node) {
	tb.Helper()
	if t == nil {
		return
	}
	if len(t.units) == 0 || len(t.units) > maxChunk {
		tb.Fatalf("chunk of %d units", len(t.units))
	}
	if t.size != size(t.left)+len(t.units)+size(t.right) {
		tb.Fatalf("cached size %d, want %d", t.size, size(t.left)+len(t.units)+size(t.right))
	}
	for _, c := range []*node{t.left, t.right} {
		if c != nil && c.prio > t.prio {
			tb.Fatalf("a child's priority exceeds its parent's")
		}
	}
	checkTree(tb, t.left)
	checkTree(tb, t.right)
}

// TestDocumentBalance types a large document from scratch, keystroke by
// keystroke, as a session would build it, and checks that the tree stays
// balanced: its depth is within a small factor of log2 of its chunk count.
func TestDocumentBalance(t *testing.T) {
	d, err := NewDocument("")
	if err != nil {
		t.Fatal(err)
	}
	trace := typingTrace(250_000)
	for i, op := range traceOps(t, trace) {
		if err := d.Apply(op); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	checkTree(t, d.root)
	n, dep := countNodes(d.root), depth(d.root)
	limit := int(4*math.Log2(float64(n))) + 8
	t.Logf("%d units in %d chunks, depth %d (limit %d)", d.Len(), n, dep, limit)
	if dep > limit {
		t.Fatalf("depth %d for %d chunks: the tree is not balanced (limit %d)", dep, n, limit)
	}
}
