package ot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// mustOp builds an operation from wire-form items or fails the test.
func mustOp(t testing.TB, items ...any) Operation {
	t.Helper()
	op, err := New(items...)
	if err != nil {
		t.Fatalf("New(%v): %v", items, err)
	}
	return op
}

// wantCode fails the test unless err is an *Error with the given code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *ot.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %q, want %q (message %q)", e.Code, code, e.Message)
	}
}

func TestLen16(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a😀b", 4},
		{"日本語", 3},
		{"e\u0301", 2}, // e + combining acute accent
		{"a\r\nb", 4},
		{"👩‍👩‍👧", 8}, // three astral characters joined by two ZWJs
		{"\U0010FFFF", 2},
	}
	for _, tt := range tests {
		if got := Len16(tt.s); got != tt.want {
			t.Errorf("Len16(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestBuilderCanonical(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"empty", func(b *Builder) {}, `[]`},
		{"zero lengths dropped", func(b *Builder) { b.Retain(0).Insert("").Delete(0) }, `[]`},
		{"retains merge", func(b *Builder) { b.Retain(1).Retain(2) }, `[3]`},
		{"inserts merge", func(b *Builder) { b.Insert("a").Insert("😀") }, `["a😀"]`},
		{"deletes merge", func(b *Builder) { b.Delete(1).Delete(2) }, `[-3]`},
		{"insert moves before delete", func(b *Builder) { b.Retain(1).Delete(2).Insert("x") }, `[1,"x",-2]`},
		{"insert joins insert before delete", func(b *Builder) { b.Insert("a").Delete(2).Insert("b").Delete(1) }, `["ab",-3]`},
		{"full", func(b *Builder) { b.Retain(5).Insert("abc").Delete(2).Retain(3) }, `[5,"abc",-2,3]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			tt.build(b)
			op, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if got := op.String(); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	_, err := NewBuilder().Retain(-1).Build()
	wantCode(t, err, EINVALID)
	_, err = NewBuilder().Delete(-1).Build()
	wantCode(t, err, EINVALID)
	_, err = NewBuilder().Insert("a\xffb").Build()
	wantCode(t, err, EINVALID)
	_, err = NewBuilder().Insert("\xed\xa0\xbd").Build() // UTF-8-encoded lone surrogate U+D83D
	wantCode(t, err, EINVALID)
	_, err = NewBuilder().Retain(MaxLength).Retain(1).Build()
	wantCode(t, err, ETOOLARGE)
	_, err = New(0)
	wantCode(t, err, EINVALID)
	_, err = New(1.5)
	wantCode(t, err, EINVALID)
}

func TestLengths(t *testing.T) {
	op := mustOp(t, 5, "a😀", -2, 3)
	if op.BaseLen() != 10 || op.TargetLen() != 11 {
		t.Fatalf("BaseLen, TargetLen = %d, %d, want 10, 11", op.BaseLen(), op.TargetLen())
	}
	if op.IsNoop() || !mustOp(t, 7).IsNoop() || !(Operation{}).IsNoop() {
		t.Fatal("IsNoop is wrong")
	}
	if err := op.Validate(10); err != nil {
		t.Fatal(err)
	}
	wantCode(t, op.Validate(9), EINVALID)
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, `[]`},
		{` [ 5 , "abc" , -2 , 3 ] `, `[5,"abc",-2,3]`},
		{`[1,2]`, `[3]`},
		{`[-1,"a"]`, `["a",-1]`},
		{`["",1]`, `[1]`},
		{`["\ud83d\ude00"]`, `["😀"]`},
		{`["\u00e9\n\t\"\\\/"]`, `["é\n\t\"\\/"]`},
		{`["\u0000"]`, `["\u0000"]`},
		{`["\u2028"]`, `["\u2028"]`},
		{`[2147483647]`, `[2147483647]`},
		{`[-2147483647]`, `[-2147483647]`},
	}
	for _, tt := range tests {
		var op Operation
		if err := json.Unmarshal([]byte(tt.in), &op); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		got, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("Unmarshal then Marshal %s = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestJSONInvalid(t *testing.T) {
	tests := []string{
		``, `null`, `{}`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[0]`, `[-0]`, `[1.0]`, `[1e2]`, `[1E2]`,
		`[01]`, `[-]`, `[null]`, `[true]`, `[[1]]`, `[{}]`, `[1]x`, `[1][2]`, `"a"`, `1`,
		`[2147483648]`, `[-2147483648]`, `[99999999999999999999999]`,
		`["\ud83d"]`, `["\ude00"]`, `["\ud83dx"]`, `["\ud83d\u0041"]`, `["\ude00\ud83d"]`,
		"[\"a\xffb\"]", "[\"\xed\xa0\xbd\"]", "[\"a\nb\"]", `["\x"]`, `["\u12"]`, `["abc]`, `["\`,
	}
	for _, in := range tests {
		var op Operation
		err := op.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%q) accepted %s", in, op)
			continue
		}
		wantCode(t, err, EINVALID)
	}
	// Lengths summing beyond MaxLength.
	_, err := ParseJSON([]byte(`[2147483647,1]`))
	wantCode(t, err, ETOOLARGE)
	// A struct field goes through the same checks.
	var msg struct{ Op Operation }
	err = json.Unmarshal([]byte(`{"Op":["\ud83d"]}`), &msg)
	wantCode(t, err, EINVALID)
}

func TestApply(t *testing.T) {
	tests := []struct {
		doc  string
		op   []any
		want string
	}{
		{"", nil, ""},
		{"", []any{"hello"}, "hello"},
		{"hello", []any{-5}, ""},
		{"0123456789", []any{5, "abc", -2, 3}, "01234abc789"},
		{"a😀b", []any{1, -2, 1}, "ab"},
		{"a😀b", []any{3, "😎", 1}, "a😀😎b"},
		{"日本語", []any{1, "x", 2}, "日x本語"},
		{"e\u0301x", []any{2, -1}, "e\u0301"},     // combining mark kept with its base
		{"e\u0301x", []any{1, -1, 1}, "ex"},       // the mark is a unit of its own
		{"a\r\nb", []any{1, -2, "\n", 1}, "a\nb"}, // CRLF is two units
	}
	for _, tt := range tests {
		op := mustOp(t, tt.op...)
		got, err := Apply(tt.doc, op)
		if err != nil {
			t.Errorf("Apply(%q, %s): %v", tt.doc, op, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Apply(%q, %s) = %q, want %q", tt.doc, op, got, tt.want)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		doc string
		op  []any
	}{
		{"", []any{1}},
		{"abc", []any{2}},
		{"abc", []any{4}},
		{"abc", []any{1, -3}},
		{"a😀b", []any{2, -1, 1}}, // retain boundary inside the pair
		{"a😀b", []any{1, -1, 2}}, // delete boundary inside the pair
		{"😀", []any{1, "x", 1}},
		{"a\xffb", []any{3}}, // document is not UTF-8
	}
	for _, tt := range tests {
		op := mustOp(t, tt.op...)
		_, err := Apply(tt.doc, op)
		if err == nil {
			t.Errorf("Apply(%q, %s) succeeded", tt.doc, op)
			continue
		}
		wantCode(t, err, EINVALID)
	}
	_, err := Apply("abc", mustOp(t, 2))
	if err == nil || !strings.Contains(err.Error(), "base length 2 does not match document length 3") {
		t.Fatalf("error %v does not name both lengths", err)
	}
}

func TestCompose(t *testing.T) {
	tests := []struct {
		doc  string
		a, b []any
		want string // the composed operation
	}{
		{"", []any{"abc"}, []any{1, "x", 2}, `["axbc"]`},
		{"abc", []any{-3}, []any{"x"}, `["x",-3]`},
		{"abc", []any{3, "😀"}, []any{2, -3}, `[2,-1]`},
		{"abc", []any{1, "😀", 2}, []any{3, "x", 2}, `[1,"😀x",2]`},
		{"abcd", []any{1, -2, 1}, []any{1, "xy", 1}, `[1,"xy",-2,1]`},
		{"x", []any{"ab", 1}, []any{1, -1, 1}, `["a",1]`},
	}
	for _, tt := range tests {
		a, b := mustOp(t, tt.a...), mustOp(t, tt.b...)
		c, err := Compose(a, b)
		if err != nil {
			t.Errorf("Compose(%s, %s): %v", a, b, err)
			continue
		}
		if c.String() != tt.want {
			t.Errorf("Compose(%s, %s) = %s, want %s", a, b, c, tt.want)
		}
		ab := mustApply(t, mustApply(t, tt.doc, a), b)
		if got := mustApply(t, tt.doc, c); got != ab {
			t.Errorf("Compose(%s, %s) applied to %q = %q, want %q", a, b, tt.doc, got, ab)
		}
	}
	_, err := Compose(mustOp(t, 1), mustOp(t, 2))
	wantCode(t, err, EINVALID)
	_, err = Compose(mustOp(t, "😀"), mustOp(t, 1, -1)) // b splits the pair a inserted
	wantCode(t, err, EINVALID)
}

func mustApply(t testing.TB, doc string, op Operation) string {
	t.Helper()
	s, err := Apply(doc, op)
	if err != nil {
		t.Fatalf("Apply(%q, %s): %v", doc, op, err)
	}
	return s
}

func TestTransform(t *testing.T) {
	tests := []struct {
		doc    string
		a, b   []any
		aPrime string
		bPrime string
		want   string
	}{
		{"", []any{"a"}, []any{"b"}, `["a",1]`, `[1,"b"]`, "ab"},
		{"", []any{"b"}, []any{"a"}, `["b",1]`, `[1,"a"]`, "ba"},
		{"abc", []any{-3}, []any{-3}, `[]`, `[]`, ""},
		{"abc", []any{1, -1, 1}, []any{1, "😀", 2}, `[3,-1,1]`, `[1,"😀",1]`, "a😀c"},
		{"abcdef", []any{1, -4, 1}, []any{2, "x", 2, -1, 1}, ``, ``, "axf"},
		{"日本語", []any{1, "x", 2}, []any{2, "y", 1}, `[1,"x",3]`, `[3,"y",1]`, "日x本y語"},
	}
	for _, tt := range tests {
		a, b := mustOp(t, tt.a...), mustOp(t, tt.b...)
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Errorf("Transform(%s, %s): %v", a, b, err)
			continue
		}
		if tt.aPrime != "" && (ap.String() != tt.aPrime || bp.String() != tt.bPrime) {
			t.Errorf("Transform(%s, %s) = %s, %s, want %s, %s", a, b, ap, bp, tt.aPrime, tt.bPrime)
		}
		left := mustApply(t, mustApply(t, tt.doc, a), bp)
		right := mustApply(t, mustApply(t, tt.doc, b), ap)
		if left != tt.want || right != tt.want {
			t.Errorf("Transform(%s, %s) on %q: a then b' = %q, b then a' = %q, want %q", a, b, tt.doc, left, right, tt.want)
		}
	}
	_, _, err := Transform(mustOp(t, 1), mustOp(t, 2))
	wantCode(t, err, EINVALID)
}

// TestJSONManyPieces decodes a frame of 100,000 one-letter strings
// separated by deletes: the builder must merge them into one insert (and do
// so in linear time: string concatenation here once took quadratic time).
func TestJSONManyPieces(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 100_000 {
		if i > 0 {
			sb.WriteString(",")
		}
		if i%3 == 2 {
			sb.WriteString("-1")
		} else {
			sb.WriteString(`"é"`)
		}
	}
	sb.WriteString("]")
	op, err := ParseJSON([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if op.Len() != 2 || op.InsertedLen() != 66_667 || op.BaseLen() != 33_333 {
		t.Fatalf("got %d components inserting %d units over %d, want 2, 66667, 33333", op.Len(), op.InsertedLen(), op.BaseLen())
	}
	if c := op.Components()[0]; c.Insert != strings.Repeat("é", 66_667) {
		t.Fatal("the merged insert has the wrong text")
	}
}

func TestAccessors(t *testing.T) {
	op := mustOp(t, 2, "日😀", -3, 1)
	want := []Component{{Retain: 2}, {Insert: "日😀"}, {Delete: 3}, {Retain: 1}}
	got := op.Components()
	if len(got) != len(want) || op.Len() != len(want) {
		t.Fatalf("Components() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Components() = %+v, want %+v", got, want)
		}
	}
	if op.InsertedLen() != 3 {
		t.Fatalf("InsertedLen() = %d, want 3", op.InsertedLen())
	}
	if !op.Equal(mustOp(t, 1, 1, "日", "😀", -1, -2, 1)) {
		t.Fatal("an equal edit built in pieces is not Equal")
	}
	for _, other := range [][]any{{2, "日😀", -3, 2}, {2, "日😎", -3, 1}, {3, "日😀", -3}, {2, -3, 1}} {
		if op.Equal(mustOp(t, other...)) {
			t.Fatalf("%s Equal %v", op, other)
		}
	}
	if s := op.String(); s != `[2,"日😀",-3,1]` {
		t.Fatalf("String() = %s", s)
	}
	var e error = &Error{Code: EINVALID, Message: "bad"}
	if e.Error() != "ot: bad" {
		t.Fatalf("Error() = %q", e.Error())
	}
}

// TestTransformTooLarge: two inserts into a document one unit short of
// MaxLength are each fine, but the document holding both would not be.
func TestTransformTooLarge(t *testing.T) {
	a := mustOp(t, "x", MaxLength-1)
	b := mustOp(t, "y", MaxLength-1)
	_, _, err := Transform(a, b)
	wantCode(t, err, ETOOLARGE)
	// Deletes on both sides never overflow.
	c := mustOp(t, -1, MaxLength-1)
	if _, _, err := Transform(c, c); err != nil {
		t.Fatal(err)
	}
}

// TestJSONLen checks that jsonLen, the size String and MarshalJSON allocate,
// is exact when no character needs escaping and never more than the JSON.
func TestJSONLen(t *testing.T) {
	for _, items := range [][]any{
		{}, {7}, {-1}, {"x"}, {9, "é", 10}, {2147483647}, {-2147483647}, {2147483645, "😀"},
		{1, "a\"b\n", -3, 10, "\u2028", 99}, {1000000, "日本", -1, 1},
	} {
		op := mustOp(t, items...)
		b, _ := op.MarshalJSON()
		if n := op.jsonLen(); n > len(b) || n < len(b) && !strings.ContainsAny(string(b), `\`) {
			t.Errorf("jsonLen(%s) = %d, the JSON has %d bytes", b, n, len(b))
		}
		if s := op.String(); s != string(b) {
			t.Errorf("String() = %s, MarshalJSON() = %s", s, b)
		}
	}
}
