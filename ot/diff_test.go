package ot

import "testing"

func TestDiff(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"", "", `[]`},
		{"abc", "abc", `[3]`},
		{"abc", "aXc", `[1,"X",-1,1]`},
		{"", "new", `["new"]`},
		{"old", "", `[-3]`},
		{"a😀b", "a😃b", `[1,"😃",-2,1]`}, // one surrogate pair differs in its low half: both halves go
		{"😀x", "😀y", `[2,"y",-1]`},
	} {
		op := Diff(c.a, c.b)
		got, err := Apply(c.a, op)
		if err != nil || got != c.b || op.String() != c.want {
			t.Errorf("Diff(%q, %q) = %s -> %q %v, want %s", c.a, c.b, op, got, err, c.want)
		}
	}
}
