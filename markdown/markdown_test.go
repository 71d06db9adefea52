package markdown

import (
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
		not       []string
	}{
		{"gfm", "# Title\n\n- [x] done\n- [ ] todo\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ https://example.com\n",
			[]string{"<h1>Title</h1>", `type="checkbox"`, "<table>", "<del>gone</del>", `<a href="https://example.com">`}, nil},
		{"raw html block", "<script>alert(1)</script>\n\nok", []string{"<p>ok</p>"}, []string{"<script", "alert(1)</script>"}},
		{"inline html", "hi <img src=x onerror=alert(1)> <b>b</b>", nil, []string{"<img", "onerror", "<b>"}},
		{"javascript link", "[x](javascript:alert(1))", []string{">x</a>"}, []string{"javascript:"}},
		{"mixed case", "[x](JaVaScRiPt:alert(1))", nil, []string{"alert(1)"}},
		{"vbscript", "[x](vbscript:msgbox)", nil, []string{"vbscript:"}},
		{"data html", "[x](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:text/html"}},
		{"image js", "![i](javascript:alert(1))", nil, []string{"javascript:"}},
		{"angle brackets", "[x](<javascript:alert(1)>)", nil, []string{"javascript:"}},
		{"unknown scheme", "[x](intent://evil)", nil, []string{"intent:"}},
		{"autolink", "<javascript:alert(1)>", nil, []string{`href="javascript`}},
		{"reference", "[x][r]\n\n[r]: javascript:alert(1)", nil, []string{"javascript:"}},
		{"relative and mailto", "[a](/n/x) [b](#top) [c](mailto:a@b.c)", []string{`href="/n/x"`, `href="#top"`, `href="mailto:a@b.c"`}, nil},
		{"text escaped", "a < b & \"c\"", []string{"a &lt; b &amp; &quot;c&quot;"}, nil},
	} {
		out, err := Render(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := string(out)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: output contains %q:\n%s", tc.name, n, got)
			}
		}
	}
}

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]bool{
		"https://x": true, "http://x": true, "mailto:a@b": true, "/a:b": true, "a/b:c": true, "?q=a:b": true, "#x:y": true, "": true,
		"javascript:x": false, "java\tscript:x": false, " javascript:x": false, "\x01javascript:x": false, "data:x": false, "ftp://x": false,
	} {
		if got := safeURL([]byte(in)); got != want {
			t.Errorf("safeURL(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestPage is the test of the ".html" download (it was export.RenderHTML's).
func TestPage(t *testing.T) {
	md := "# Sync\n\n" +
		"<script>alert('raw block')</script>\n\n" +
		"Inline <img src=x onerror=alert(1)> html and <b>bold</b>.\n\n" +
		"[click](javascript:alert(1)) [vb](VBScript:msgbox) ![img](data:text/html;base64,PHNjcmlwdD4=)\n\n" +
		"[later](intent://evil)\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n\n" +
		"- [x] done\n- [ ] open\n\n" +
		"~~gone~~ and https://example.com/x?a=1&b=2\n"
	out, err := Page("</title><script>alert(\"t\")</script> &\n more\u202e", md)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(out)
	for _, bad := range []string{"<script", "onerror", "javascript:", "VBScript:", "data:text/html", "<b>", "intent:", "\u202e"} {
		if strings.Contains(doc, bad) {
			t.Errorf("rendered HTML contains %q:\n%s", bad, doc)
		}
	}
	for _, good := range []string{
		"<!DOCTYPE html>",
		"<title>&lt;/title&gt;&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; more</title>",
		"<h1>Sync</h1>",
		"<table>", "<td>1</td>",
		`<input checked="" disabled="" type="checkbox"> done`,
		"<del>gone</del>",
		`<a href="https://example.com/x?a=1&amp;b=2">`,
		"Content-Security-Policy",
		"</main>\n</body>\n</html>\n",
	} {
		if !strings.Contains(doc, good) {
			t.Errorf("rendered HTML lacks %q:\n%s", good, doc)
		}
	}
	if n := strings.Count(doc, "<title>"); n != 1 {
		t.Errorf("%d <title> tags", n)
	}
	untitled, err := Page(" \x00 ", "")
	if err != nil || !strings.Contains(string(untitled), "<title>Untitled note</title>") {
		t.Errorf("empty title: %v\n%s", err, untitled)
	}
}

// TestParserFiltersLinks checks that code reading the tree (export) sees
// the same filtered links that Render writes.
func TestParserFiltersLinks(t *testing.T) {
	src := []byte("[x](javascript:alert(1)) [y](https://example.com)")
	doc := Parser().Parse(text.NewReader(src))
	var dests []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			dests = append(dests, string(l.Destination))
		}
		return ast.WalkContinue, nil
	})
	if len(dests) != 2 || dests[0] != "" || dests[1] != "https://example.com" {
		t.Errorf("link destinations = %q", dests)
	}
}
