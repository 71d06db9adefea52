package storetest

import (
	"math/rand/v2"
	"testing"
)

func TestEditOp(t *testing.T) {
	for _, c := range []struct {
		doc      string
		pos, del int
		ins      string
		op, want string
	}{
		{"abc", 1, 1, "X", `[1,"X",-1,1]`, "aXc"},
		{"abc", 0, 0, "X", `["X",3]`, "Xabc"},
		{"abc", 3, 0, "X", `[3,"X"]`, "abcX"},
		{"abc", 0, 3, "", `[-3]`, ""},
		{"", 0, 0, "X", `["X"]`, "X"},
		{"", 0, 0, "", `[]`, ""},
		{"a😀b", 3, 1, "", `[3,-1]`, "a😀"},
		{"a😀b", 1, 2, "é", `[1,"é",-2,1]`, "aéb"},
	} {
		op := EditOp(c.doc, c.pos, c.del, c.ins)
		if string(op) != c.op {
			t.Errorf("EditOp(%q, %d, %d, %q) = %s, want %s", c.doc, c.pos, c.del, c.ins, op, c.op)
			continue
		}
		got, err := Apply(c.doc, op)
		if err != nil || got != c.want {
			t.Errorf("Apply(%q, %s) = %q, %v; want %q", c.doc, op, got, err, c.want)
		}
	}
	if n := Len("a😀b"); n != 4 {
		t.Errorf("Len(a😀b) = %d, want 4", n)
	}
}

// TestRandomOp checks that RandomOp always makes a valid, non-empty edit
// and keeps documents near maxLen.
func TestRandomOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	doc := ""
	for i := range 5000 {
		op := RandomOp(rng, doc, 50)
		next, err := Apply(doc, op)
		if err != nil {
			t.Fatalf("step %d: %s on %q: %v", i, op, doc, err)
		}
		if string(op) == "[]" {
			t.Fatalf("step %d: empty op", i)
		}
		if len(next) > 53 {
			t.Fatalf("step %d: document grew to %d", i, len(next))
		}
		doc = next
	}
}
