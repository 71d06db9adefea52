package export

import (
	"strings"
	"testing"
)

func TestRenderHTML(t *testing.T) {
	md := "# Sync\n\n" +
		"<script>alert('raw block')</script>\n\n" +
		"Inline <img src=x onerror=alert(1)> html and <b>bold</b>.\n\n" +
		"[click](javascript:alert(1)) [vb](VBScript:msgbox) ![img](data:text/html;base64,PHNjcmlwdD4=)\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n\n" +
		"- [x] done\n- [ ] open\n\n" +
		"~~gone~~ and https://example.com/x?a=1&b=2\n"
	out, err := RenderHTML(`</title><script>alert("t")</script> & more`, md)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(out)
	for _, bad := range []string{"<script", "onerror", "javascript:", "VBScript:", "data:text/html", "<b>"} {
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
}
