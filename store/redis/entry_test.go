package redis

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// entryOf writes a log entry as append.lua does: {"r":REV,"t":NS, then the
// changeBody Go encodes, after its opening brace.
func entryOf(t testing.TB, rev, ns int64, body changeBody) string {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return `{"r":` + itoa(rev) + `,"t":` + itoa(ns) + `,` + string(b[1:])
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// The entries this store writes take the fast path, and decode to what
// encoding/json makes of them.
func TestDecodeEntryFastTakesWhatAppendWrites(t *testing.T) {
	bodies := []changeBody{
		{Op: json.RawMessage(`["x"]`), Session: "s1", Seq: 1},
		{Op: json.RawMessage(`[12,"y",-3,40]`), Session: "abcDEF0123456789", Seq: 18446744073709551615, Author: "Ann"},
		{Op: json.RawMessage(`[5,"line\none \"quoted\" \\ \u003cb\u003e \ud83d\ude00 tab\t"]`), Session: "s", Seq: 7, Author: "Zoë Ünal", Email: "zoe@example.com"},
		{Op: json.RawMessage(`[1048576,-1048576]`), Session: "s", Seq: 2, Email: "only@example.com"},
		{Op: json.RawMessage(`[]`), Session: "s", Seq: 3},
	}
	for i, body := range bodies {
		raw := entryOf(t, int64(i+1), 1796426792831342592, body)
		got, ok := decodeEntryFast(raw)
		if !ok {
			t.Fatalf("entry %d took the slow path: %s", i, raw)
		}
		var want storedChange
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("entry %d: fast %+v, encoding/json %+v", i, got, want)
		}
	}
}

// What the fast path does not take, decodeChange still decodes (or
// refuses) as encoding/json does.
func TestDecodeEntryFastLeavesTheRest(t *testing.T) {
	credit := entryOf(t, 3, 9, changeBody{Op: json.RawMessage(`["ab"]`), Session: "s", Seq: 1,
		Credit: []scribe.CreditRun{{Len: 2, Author: scribe.Author{Name: "Ann"}}}})
	cases := []struct {
		raw           string
		fast, decodes bool
	}{
		{credit, false, true},
		{`{"r":1,"t":2,"o":["x"],"s":"a\"b","q":1}`, false, true},              // an escape in the session
		{`{"t":2,"r":1,"o":["x"],"s":"s","q":1}`, false, true},                 // another order
		{`{"r":1, "t":2,"o":["x"],"s":"s","q":1}`, false, true},                // white space
		{`{"R":1,"t":2,"o":["x"],"s":"s","q":1}`, false, true},                 // encoding/json matches keys without case
		{`{"r":1,"t":2,"o":["x"],"s":"s","q":1,"z":0}`, false, true},           // an unknown field
		{`{"r":1,"t":2,"o":["x"],"s":"s\xff","q":1}`, false, true},             // invalid UTF-8 (json makes it U+FFFD)
		{`{"r":01,"t":2,"o":["x"],"s":"s","q":1}`, false, false},               // a leading zero
		{`{"r":1,"t":2,"o":["x\q"],"s":"s","q":1}`, false, false},              // a bad escape
		{`{"r":1,"t":2,"o":["x"],"s":"s","q":-1}`, false, false},               // a negative seq
		{`{"r":1,"t":2,"o":["x"],"s":"s","q":1}x`, false, false},               // trailing bytes
		{`{"r":1,"t":2,"o":["x"],"s":"s","q":1,"a":"x","a":"y"}`, false, true}, // a repeated key
		{`{"r":0,"t":2,"o":["x"],"s":"s","q":1}`, true, false},                 // revision 0: read, then refused
		{`{"r":1,"t":2,"o":[1,"x"],"s":"s","q":1,"e":"m"}`, true, true},
	}
	for _, c := range cases {
		raw := strings.ReplaceAll(c.raw, `\xff`, "\xff")
		if _, ok := decodeEntryFast(raw); ok != c.fast {
			t.Errorf("decodeEntryFast(%q): fast path %v, want %v", raw, ok, c.fast)
		}
		if _, err := decodeChange(raw); (err == nil) != c.decodes {
			t.Errorf("decodeChange(%q): err %v, want decodes %v", raw, err, c.decodes)
		}
	}
}

// Whenever the fast path accepts an input, encoding/json accepts it too and
// decodes the same.
func FuzzDecodeEntryFast(f *testing.F) {
	f.Add(`{"r":1,"t":2,"o":["x"],"s":"s","q":1}`)
	f.Add(`{"r":12,"t":1796426792831342592,"o":[5,"a\nb\u00e9",-2,1.5e3],"s":"sess","q":3,"a":"Ann","e":"ann@example.com"}`)
	f.Add(`{"r":1,"t":2,"o":[],"s":"","q":0,"e":""}`)
	f.Add(`{"r":9223372036854775807,"t":0,"o":[0,-0.0e-0],"s":"\u00ff","q":18446744073709551615}`)
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := decodeEntryFast(raw)
		if !ok {
			return
		}
		var want storedChange
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", raw, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", raw, got, want)
		}
	})
}

// BenchmarkDecodeChange decodes one keystroke's log entry, as every node
// does for every commit it hears of (figures in docs/benchmarks.md).
func BenchmarkDecodeChange(b *testing.B) {
	raw := entryOf(b, 31337, 1796426792831342592, changeBody{Op: json.RawMessage(`[4711,"x",90210]`), Session: "Yb1kX0m2Qz7s4Tq9", Seq: 1234, Author: "Bench"})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeChange(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var sc storedChange
			if err := json.Unmarshal([]byte(raw), &sc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// encodeBody writes what json.Marshal writes, whichever way it takes.
func FuzzEncodeBody(f *testing.F) {
	f.Add(`[5,"x"]`, "sess", uint64(1), "Ann", "ann@example.com")
	f.Add(`[1,"a b\n\u00e9 <\\\"",-2]`, "s", uint64(18446744073709551615), "", "")
	f.Add(`["é😀"]`, "Zoë", uint64(0), "a&b", "\u2028")
	f.Add(`[ 1]`, "\xff", uint64(7), "x\ty", "")
	f.Fuzz(func(t *testing.T, op, session string, seq uint64, author, email string) {
		b := changeBody{Op: json.RawMessage(op), Session: session, Seq: seq, Author: author, Email: email}
		want, werr := json.Marshal(b)
		got, gerr := encodeBody(b)
		if (werr == nil) != (gerr == nil) || string(got) != string(want) {
			t.Fatalf("encodeBody(%+v) = %q, %v; json.Marshal %q, %v", b, got, gerr, want, werr)
		}
	})
}

// A keystroke's body takes the hand-written way.
func TestEncodeBodyPlain(t *testing.T) {
	for _, op := range []string{`[5,"x"]`, `["a b",3,-2]`, `[1,"line\nbreak \"q\" \\ é"]`} {
		if !plainJSON(op) {
			t.Errorf("plainJSON(%s) = false", op)
		}
	}
	for _, op := range []string{`["<b>"]`, `[1, 2]`, `{"a":1}`, ``, `[1,"x"]x`} {
		if plainJSON(op) {
			t.Errorf("plainJSON(%s) = true", op)
		}
	}
}

// BenchmarkEncodeBody encodes one keystroke's change for append.lua.
func BenchmarkEncodeBody(b *testing.B) {
	body := changeBody{Op: json.RawMessage(`[4711,"x",90210]`), Session: "Yb1kX0m2Qz7s4Tq9", Seq: 1234, Author: "Bench"}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeBody(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
