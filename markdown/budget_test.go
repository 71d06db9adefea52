package markdown

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wideTable is issue 12's render amplification: a header of cols columns
// and one-character rows, which GFM pads to the header's width.
func wideTable(cols, size int) string {
	var b strings.Builder
	b.WriteString(strings.Repeat("|a", cols) + "|\n" + strings.Repeat("|-", cols) + "|\n")
	for b.Len() < size {
		b.WriteString("x\n")
	}
	return b.String()
}

// pathological are issue 12's inputs, at the sizes it measured.
var pathological = []struct{ name, src string }{
	{"wide table (8.8 KB)", wideTable(300, 8800)},
	{"unclosed links [a]( x 60,000", strings.Repeat("[a](", 60_000)},
	{"unclosed <links [a](<b x 50,000", strings.Repeat("[a](<b", 50_000)},
	{"quotes > x 120,000", strings.Repeat("> ", 120_000)},
	{"nested lists - x 100,000", strings.Repeat("- ", 100_000) + "x"},
	{"nested ordered lists 1. x 50,000", strings.Repeat("1. ", 50_000) + "x"},
}

func TestPathologicalFallBack(t *testing.T) {
	for _, tc := range pathological {
		err := Check(tc.src, DefaultLimits)
		if !errors.Is(err, ErrTooComplex) {
			t.Errorf("%s: Check = %v, want ErrTooComplex", tc.name, err)
		}
		out, err := Render(tc.src)
		if !errors.Is(err, ErrTooComplex) {
			t.Errorf("%s: Render error = %v, want ErrTooComplex", tc.name, err)
		}
		if !strings.Contains(string(out), `<pre class="scribe-plain">`) {
			t.Errorf("%s: no fallback <pre> in the output", tc.name)
		}
		// The fallback is linear: at most 5 bytes per byte of source.
		if len(out) > 5*len(tc.src)+len(fallbackHead)+16 {
			t.Errorf("%s: %d bytes of HTML for %d of source", tc.name, len(out), len(tc.src))
		}
		if doc, err := Parse([]byte(tc.src)); doc != nil || !errors.Is(err, ErrTooComplex) {
			t.Errorf("%s: Parse = %v, %v; want nil, ErrTooComplex", tc.name, doc, err)
		}
	}
}

// TestCheckCountsWork checks the pre-scan's counts against what goldmark
// does, on inputs just under and over each limit.
func TestCheckCountsWork(t *testing.T) {
	l := Limits{MaxTableCells: 100, MaxDepth: 8, MaxLinkScan: 1000}
	for _, tc := range []struct {
		name string
		src  string
		ok   bool
	}{
		{"table 10x9", wideTable(10, 0) + strings.Repeat("x\n", 8), true},
		{"table 10x11", wideTable(10, 0) + strings.Repeat("x\n", 10), false},
		{"table ended by a blank line", wideTable(10, 0) + "x\n\n" + strings.Repeat("para\n", 200), true},
		{"table in a quote", "> |a|b|\n> |-|-|\n" + strings.Repeat("> x\n", 60), false},
		{"dashes alone", strings.Repeat("---\nx\n", 100), true},
		{"8 quotes", strings.Repeat("> ", 8) + "x", true},
		{"9 quotes", strings.Repeat("> ", 9) + "x", false},
		{"9 mixed", "> - 1. > * + 2) > - x", false},
		{"indented 14 columns", strings.Repeat(" ", 14) + "- x", true},
		{"indented 20 columns", strings.Repeat(" ", 20) + "- x", false},
		{"closed links", strings.Repeat("[a](https://example.com/a) ", 40), true},
		{"closed links without spaces", strings.Repeat("[a](https://example.com/(a))", 30), true},
		{"unclosed links", strings.Repeat("[a](", 30), false},
		{"unclosed links, 20", strings.Repeat("[a](", 20), true}, // 4+8+...+80 = 840
		{"unclosed links on many lines", strings.Repeat("[a](b\n", 1000), false},
		{"escaped parenthesis", strings.Repeat(`[a]\(`, 200), true},
	} {
		err := Check(tc.src, l)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Check = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestOutputBudget(t *testing.T) {
	r := NewRenderer(Options{Limits: Limits{MaxOutput: 1000}})
	src := strings.Repeat("- item\n", 100) // 700 bytes, about 1,500 of HTML
	out, err := r.Render(src)
	if !errors.Is(err, ErrTooComplex) || !strings.Contains(string(out), "scribe-plain") {
		t.Fatalf("Render = %.60q, %v; want the fallback and ErrTooComplex", out, err)
	}
	out, err = r.Render("- item\n")
	if err != nil || !strings.Contains(string(out), "<li>item</li>") {
		t.Fatalf("small note: %q, %v", out, err)
	}
}

// slow passes the pre-scan but is quadratic in goldmark's emphasis
// processing (goldmark issue 555): well over a second here.
var slow = strings.Repeat("*a_ ", 40_000)

func TestTimeBudget(t *testing.T) {
	if err := Check(slow, DefaultLimits); err != nil {
		t.Fatalf("the slow input no longer passes the pre-scan: %v", err)
	}
	r := NewRenderer(Options{Limits: Limits{Timeout: 20 * time.Millisecond}, Concurrency: 1, Wait: 20 * time.Millisecond})
	out, err := r.Render(slow)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(string(out), "scribe-plain") {
		t.Fatalf("Render = %.60q, %v; want the fallback and ErrTimeout", out, err)
	}
	// The abandoned render still holds the only slot: another note waits
	// Wait, then gets the fallback.
	out, err = r.Render("# other")
	if !errors.Is(err, ErrBusy) || !strings.Contains(string(out), "scribe-plain") {
		t.Fatalf("second Render = %.60q, %v; want the fallback and ErrBusy", out, err)
	}
	// The same text again is answered from the cache, without a new render.
	if _, err := r.Render(slow); !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow again: %v, want the cached ErrTimeout", err)
	}
	if _, err := r.Parse([]byte(slow + "x")); !errors.Is(err, ErrBusy) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("Parse: %v, want ErrBusy or ErrTimeout", err)
	}
}

func TestCache(t *testing.T) {
	r := NewRenderer(Options{CacheBytes: 4096})
	a, err := r.Render("# a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Render("# a")
	if &a[0] != &b[0] {
		t.Error("the second render of the same text was not served from the cache")
	}
	for i := 0; i < 100; i++ {
		_, _ = r.Render(strings.Repeat("x", 100) + string(rune('a'+i%26)) + strings.Repeat("y", i))
	}
	if r.cache.size > 4096 || len(r.cache.items) > 4096/128 {
		t.Errorf("cache holds %d bytes in %d entries, over its 4096 bytes", r.cache.size, len(r.cache.items))
	}
	if _, ok := r.cache.get(keyOf("# a")); ok {
		t.Error("the least recently used entry was not evicted")
	}
}
