package server_test

import (
	"strings"
	"testing"

	"github.com/scribe-notes/scribe/server"
)

// TestDownloadHTMLFiltersLinks checks that download.html renders with the
// read-only page's link policy (package markdown), not a laxer copy: before
// they shared one configuration, the page served by cmd/scribe (export's
// goldmark, without the link filter) kept an intent:// link. goldmark alone
// drops javascript:, vbscript: and data: URLs; the filter is the allow-list.
func TestDownloadHTMLFiltersLinks(t *testing.T) {
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Links", "")
	md := "[click](javascript:alert(1)) [js](JaVaScRiPt:alert(2)) [app](intent://evil) <vbscript:msgbox> " +
		"![img](data:text/html;base64,PHNjcmlwdD4=) <b>raw</b> [ok](https://example.com/ok) [rel](/n/x)"
	if code, _ := node.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": md}, nil); code != 200 {
		t.Fatalf("append: %d", code)
	}
	code, hdr, body := request(t, "GET", node.url+"/api/notes/"+string(id)+"/download.html", "", "", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("download.html: %d %v", code, hdr)
	}
	page := string(body)
	for _, bad := range []string{`href="javascript`, `href="JaVaScRiPt`, "alert(1)", "alert(2)", "intent:", `href="vbscript`, "data:text/html", "<b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("download.html contains %q:\n%s", bad, page)
		}
	}
	for _, good := range []string{`<a href="https://example.com/ok">ok</a>`, `<a href="/n/x">rel</a>`, ">click</a>", "<title>Links</title>", "Content-Security-Policy"} {
		if !strings.Contains(page, good) {
			t.Errorf("download.html lacks %q:\n%s", good, page)
		}
	}
}
