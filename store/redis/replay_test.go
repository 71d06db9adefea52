package redis

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// TestReplay checks that replaying changes on an ot.Document (many) gives
// what applying them to strings one by one gives (few): the same text, and
// the same error for a change that does not apply or a snapshot that is not
// UTF-8.
func TestReplay(t *testing.T) {
	id := scribe.NewNoteID()
	changes := func(first scribe.Revision, ops ...string) []scribe.Change {
		cs := make([]scribe.Change, len(ops))
		for i, op := range ops {
			cs[i] = scribe.Change{Revision: first + scribe.Revision(i), Op: json.RawMessage(op)}
		}
		return cs
	}
	// Real edits around an emoji, then identity ops to reach the Document
	// path (the text stays 8 units long).
	ops := []string{`[1,"x",3]`, `[5,"!"]`, `[2,-2,2]`, `["😀",4]`, `[5,-1,"é\n"]`}
	for len(ops) < replayOnDocument+3 {
		ops = append(ops, `[7]`)
	}
	want := []string{"a😀b"} // want[n]: the text after n ops
	for _, op := range ops {
		o, err := ot.ParseJSON(json.RawMessage(op))
		if err != nil {
			t.Fatal(err)
		}
		next, err := ot.Apply(want[len(want)-1], o)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, next)
	}
	for n := range len(ops) + 1 {
		got, err := replay(id, "a😀b", changes(7, ops[:n]...))
		if err != nil || got != want[n] {
			t.Fatalf("%d changes: replay = %q, %v; want %q", n, got, err, want[n])
		}
	}

	// A change that splits the emoji, alone and after enough others to
	// take the Document path: the same error, naming its revision.
	pad := make([]string, replayOnDocument)
	for i := range pad {
		pad[i] = `[4]`
	}
	bad := 7 + scribe.Revision(len(pad))
	alone, errAlone := replay(id, "a😀b", changes(bad, `[2,-1,1]`))
	after, errAfter := replay(id, "a😀b", changes(7, append(pad, `[2,-1,1]`, `[3]`)...))
	if errAlone == nil || errAfter == nil || alone != "" || after != "" {
		t.Fatalf("split pair: got %q, %v and %q, %v; want errors", alone, errAlone, after, errAfter)
	}
	if errAlone.Error() != errAfter.Error() || scribe.ErrorCode(errAfter) != scribe.EINTERNAL ||
		!strings.Contains(errAfter.Error(), fmt.Sprintf("revision %d does not apply", bad)) {
		t.Errorf("split pair: error %q alone, %q after other changes", errAlone, errAfter)
	}

	// A snapshot that is not UTF-8 fails the first change either way.
	_, errOne := replay(id, "a\xffb", changes(3, `[3]`))
	many := make([]string, replayOnDocument)
	for i := range many {
		many[i] = `[3]`
	}
	_, errMany := replay(id, "a\xffb", changes(3, many...))
	if errOne == nil || errMany == nil || errOne.Error() != errMany.Error() {
		t.Errorf("bad snapshot: errors %v and %v, want the same one", errOne, errMany)
	}
}

// BenchmarkReplay replays n one-character inserts after a snapshot of
// 90,000 characters, the size the flood load tool's note reaches, as load
// does (replay) and as it did before (ot.Apply on strings).
func BenchmarkReplay(b *testing.B) {
	snap := strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 90000/45)
	size := ot.Len16(snap)
	for _, n := range []int{1, 10, 15, 20, 30, 100, 199} {
		cs := make([]scribe.Change, n)
		for i := range cs {
			pos := 1 + (i*7919)%(size+i-1) // neither end: no zero retain
			cs[i] = scribe.Change{Revision: scribe.Revision(i + 1), Op: json.RawMessage(fmt.Sprintf(`[%d,"x",%d]`, pos, size+i-pos))}
		}
		b.Run(fmt.Sprintf("ops=%d/document", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := replay("", snap, cs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("ops=%d/strings", n), func(b *testing.B) {
			for b.Loop() {
				text := snap
				for _, c := range cs {
					op, err := ot.ParseJSON(c.Op)
					if err == nil {
						text, err = ot.Apply(text, op)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
