package authorship

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// The vectors are shared with the browser (web/test/authors.test.mjs).
type vectors struct {
	Apply []struct {
		Name   string
		Runs   [][2]any
		Op     json.RawMessage
		Author string
		Want   [][2]any
	}
	Colors []struct {
		Keys []string
		Want map[string]string
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
	if len(v.Apply) == 0 || len(v.Colors) == 0 {
		t.Fatal("vectors.json lacks a section")
	}
	return v
}

// fromKeys turns [length, key|null] runs into an Authorship.
func fromKeys(runs [][2]any) scribe.Authorship {
	var a scribe.Authorship
	for _, r := range runs {
		who := scribe.NoAuthor
		if k, ok := r[1].(string); ok {
			who = authorIndex(&a, scribe.Author{Key: k, Name: k})
		}
		a.Runs = append(a.Runs, scribe.AuthorRun{Len: int(r[0].(float64)), Author: who})
	}
	return a
}

// toKeys is fromKeys's inverse.
func toKeys(a scribe.Authorship) [][2]any {
	out := [][2]any{}
	for _, r := range a.Runs {
		var k any
		if r.Author != scribe.NoAuthor {
			k = a.Authors[r.Author].Key
		}
		out = append(out, [2]any{float64(r.Len), k})
	}
	return out
}

func TestVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, c := range v.Apply {
		a := fromKeys(c.Runs)
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if err := Apply(&a, op, scribe.Author{Key: c.Author, Name: c.Author}); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		want := c.Want
		if want == nil {
			want = [][2]any{}
		}
		if got := toKeys(a); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", c.Name, got, want)
		}
	}
	for _, c := range v.Colors {
		if got := Colors(c.Keys); !reflect.DeepEqual(got, c.Want) {
			t.Errorf("colours of %q: got %v, want %v", c.Keys, got, c.Want)
		}
	}
}
