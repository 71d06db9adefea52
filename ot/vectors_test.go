package ot_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/scribe-notes/scribe/ot"
)

// vectors is testdata/vectors.json: golden cases shared with the browser's
// ot.js (web/test/vectors.test.mjs), so that both sides of the wire apply,
// compose and transform alike, in UTF-16 offsets, emoji and CJK included.
// testdata/gen-vectors.mjs wrote it from ot.js.
type vectors struct {
	Apply []struct {
		Name  string
		Doc   string
		Op    json.RawMessage
		Want  string
		Error bool
	}
	Compose []struct {
		Name       string
		Doc        string
		A, B, Want json.RawMessage
	}
	Transform []struct {
		Name           string
		Doc            string
		A, B           json.RawMessage
		APrime, BPrime json.RawMessage
	}
	TransformIndex []struct {
		Name      string
		Op        json.RawMessage
		Pos, Want int
	}
	TransformSelection []struct {
		Name      string
		Op        json.RawMessage
		Sel, Want ot.Selection
	}
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Apply) == 0 || len(v.Compose) == 0 || len(v.Transform) == 0 || len(v.TransformIndex) == 0 || len(v.TransformSelection) == 0 {
		t.Fatal("a section of vectors.json is empty")
	}
	return v
}

func parseOp(t *testing.T, raw json.RawMessage) ot.Operation {
	t.Helper()
	op, err := ot.ParseJSON(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return op
}

// sameOp compares op with the JSON want in canonical form.
func sameOp(t *testing.T, what string, op ot.Operation, want json.RawMessage) {
	t.Helper()
	got, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := json.Marshal(parseOp(t, want))
	if string(got) != string(w) {
		t.Errorf("%s = %s, want %s", what, got, w)
	}
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.Apply {
		got, err := ot.Apply(c.Doc, parseOp(t, c.Op))
		if c.Error {
			if err == nil {
				t.Errorf("apply %s: %q, want an error", c.Name, got)
			}
			continue
		}
		if err != nil || got != c.Want {
			t.Errorf("apply %s: %q, %v; want %q", c.Name, got, err, c.Want)
		}
		if d, err := ot.NewDocument(c.Doc); err != nil {
			t.Errorf("apply %s: NewDocument: %v", c.Name, err)
		} else if err := d.Apply(parseOp(t, c.Op)); err != nil || d.String() != c.Want {
			t.Errorf("apply %s: Document.Apply: %q, %v; want %q", c.Name, d.String(), err, c.Want)
		}
	}
	for _, c := range v.Compose {
		got, err := ot.Compose(parseOp(t, c.A), parseOp(t, c.B))
		if err != nil {
			t.Errorf("compose %s: %v", c.Name, err)
			continue
		}
		sameOp(t, "compose "+c.Name, got, c.Want)
	}
	for _, c := range v.Transform {
		aPrime, bPrime, err := ot.Transform(parseOp(t, c.A), parseOp(t, c.B))
		if err != nil {
			t.Errorf("transform %s: %v", c.Name, err)
			continue
		}
		sameOp(t, "transform "+c.Name+": a'", aPrime, c.APrime)
		sameOp(t, "transform "+c.Name+": b'", bPrime, c.BPrime)
	}
	for _, c := range v.TransformIndex {
		if got := ot.TransformIndex(c.Pos, parseOp(t, c.Op)); got != c.Want {
			t.Errorf("transformIndex %s: %d, want %d", c.Name, got, c.Want)
		}
	}
	for _, c := range v.TransformSelection {
		got := c.Sel.Transform(parseOp(t, c.Op))
		if len(got) != len(c.Want) {
			t.Errorf("transformSelection %s: %v, want %v", c.Name, got, c.Want)
			continue
		}
		for i := range got {
			if got[i] != c.Want[i] {
				t.Errorf("transformSelection %s: %v, want %v", c.Name, got, c.Want)
				break
			}
		}
	}
}

// Invert exists only in Go: check it on the shared apply cases, where
// applying the inverse to the result gives the document back.
func TestVectorsInvert(t *testing.T) {
	for _, c := range loadVectors(t).Apply {
		if c.Error {
			continue
		}
		inv, err := ot.Invert(parseOp(t, c.Op), c.Doc)
		if err != nil {
			t.Errorf("invert %s: %v", c.Name, err)
			continue
		}
		if back, err := ot.Apply(c.Want, inv); err != nil || back != c.Doc {
			t.Errorf("invert %s: %q, %v; want %q", c.Name, back, err, c.Doc)
		}
	}
}
