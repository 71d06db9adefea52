package web

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/markdown"
)

var testNow = time.Date(2026, 11, 24, 19, 5, 0, 0, time.UTC)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

func TestBuiltinTemplatesListed(t *testing.T) {
	tpls, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	files, err := builtinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	list := tpls.List()
	if len(list) != len(files) {
		t.Fatalf("List has %d templates, embedded folder has %d files", len(list), len(files))
	}
	var names []string
	for _, ti := range list {
		names = append(names, ti.Name)
		if ti.Label == "" || ti.Description == "" {
			t.Errorf("built-in %q has no label or description: %+v", ti.Name, ti)
		}
	}
	if got, want := strings.Join(names, ","), "blank,meeting,standup,retrospective"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
}

func TestFillMeeting(t *testing.T) {
	tpls, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	text, err := tpls.Fill("meeting", "Platform sync", testNow, mustLoc(t, "Europe/Berlin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Platform sync\n",
		"2026-11-24 20:05 (Europe/Berlin)", // 19:05 UTC is 20:05 in Berlin in November
		"## Attendees", "## Agenda", "## Notes", "## Decisions", "## Action items", "- [ ] ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("filled meeting lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "{{") || strings.Contains(text, "label:") {
		t.Errorf("placeholder or front matter left in:\n%s", text)
	}
}

func TestFillEveryBuiltin(t *testing.T) {
	tpls, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range tpls.List() {
		text, err := tpls.Fill(ti.Name, "T", testNow, nil)
		if err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		if !strings.HasPrefix(text, "# T\n") || strings.Contains(text, "{{") {
			t.Errorf("%s filled badly:\n%s", ti.Name, text)
		}
	}
}

func TestFillDefaultsAndErrors(t *testing.T) {
	tpls, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	text, err := tpls.Fill("", "  ", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text != "# Blank\n\n" {
		t.Errorf("empty name and title: got %q, want the blank template titled with its label", text)
	}
	text, err = tpls.Fill("blank", "a\nb\r\n# c\x00d", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text != "# a b # cd\n\n" { // newlines become spaces; NUL is dropped (scribe.CleanText)
		t.Errorf("title with newlines: got %q", text)
	}
	long := strings.Repeat("é", 500)
	text, _ = tpls.Fill("blank", long, testNow, nil)
	if n := len([]rune(strings.TrimSpace(strings.TrimPrefix(text, "# ")))); n != 200 {
		t.Errorf("long title kept %d characters, want 200", n)
	}
	_, err = tpls.Fill("nope", "x", testNow, nil)
	if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Errorf("unknown template: err = %v, want ENOTFOUND", err)
	}
	_, err = tpls.Fill("../meeting", "x", testNow, nil)
	if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Errorf("path-like name: err = %v, want ENOTFOUND", err)
	}
}

func TestOperatorTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("meeting.md", "---\nlabel: Our meeting\ndescription: The house style.\n---\n# {{title}} ({{date}})\n")
	write("design-review.md", "# {{title}}\r\n\r\n## Proposal\r\n")
	write("notes.txt", "ignored: not markdown")
	if err := os.Mkdir(filepath.Join(dir, "sub.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	tpls, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	list := tpls.List()
	var names []string
	for _, ti := range list {
		names = append(names, ti.Name)
	}
	if got, want := strings.Join(names, ","), "blank,meeting,standup,retrospective,design-review"; got != want {
		t.Fatalf("names = %s, want %s", got, want)
	}
	if list[1].Label != "Our meeting" || list[1].Description != "The house style." {
		t.Errorf("override info = %+v", list[1])
	}
	if list[4].Label != "Design review" {
		t.Errorf("label from file name = %q, want %q", list[4].Label, "Design review")
	}
	text, err := tpls.Fill("meeting", "Sync", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text != "# Sync (2026-11-24)\n" {
		t.Errorf("override not used: %q", text)
	}
	text, _ = tpls.Fill("design-review", "API", testNow, nil)
	if text != "# API\n\n## Proposal\n" {
		t.Errorf("CRLF template: %q", text)
	}
}

func TestOperatorTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ file, body string }{
		{"bad name.md", "# x"},
		{"big.md", strings.Repeat("x", MaxTemplateBytes+1)},
		{"latin1.md", "caf\xe9"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTemplates(dir)
		if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: err = %v, want EINVALID naming the file", tc.file, err)
		}
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing folder: no error")
	}
}

// TestTemplateFrontMatterYAML checks that front matter is read as YAML, not
// split by hand: quotes are YAML's, not part of the label (the hand-written
// parser kept `"Design review"` with its quotes), comments are comments,
// and front matter that is not YAML is refused naming the file.
func TestTemplateFrontMatterYAML(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("design-review.md", "---\n# who reads this: the home page\nlabel: \"Design review\"\ndescription: 'It''s the: proposal, risks'\nowner: [ignored, key]\n---\n# {{title}}\n")
	write("empty.md", "---\n---\n# {{title}}\n")
	write("folded.md", "---\r\nlabel: >-\r\n  Weekly\r\n  sync\r\ndescription: \"Line\\nbreak\\u202e\"\r\n---\r\nbody\r\n")
	tpls, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]TemplateInfo{
		"design-review": {Name: "design-review", Label: "Design review", Description: "It's the: proposal, risks"},
		"empty":         {Name: "empty", Label: "Empty"},
		"folded":        {Name: "folded", Label: "Weekly sync", Description: "Line break"},
	}
	for _, ti := range tpls.List() {
		if w, ok := want[ti.Name]; ok && ti != w {
			t.Errorf("%s: info = %+v, want %+v", ti.Name, ti, w)
		}
	}
	if text, _ := tpls.Fill("design-review", "API", testNow, nil); text != "# API\n" {
		t.Errorf("body after YAML front matter: %q", text)
	}
	if text, _ := tpls.Fill("folded", "", testNow, nil); text != "body\n" {
		t.Errorf("body after CRLF front matter: %q", text)
	}

	for _, body := range []string{
		"---\nlabel: \"unclosed\n---\n# x\n",
		"---\nlabel: [a, b]\n---\n# x\n",
		"---\njust a sentence\n---\n# x\n",
		"---\nlabel: a\n\tdescription: tab\n---\n# x\n",
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, "broken.md"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTemplates(bad)
		if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(err.Error(), "broken.md") || !strings.Contains(err.Error(), "YAML") {
			t.Errorf("front matter %q: err = %v, want EINVALID naming broken.md and YAML", body, err)
		}
	}
}

// A hostile operator template is plain text: Go template actions, other
// placeholders and file references come out exactly as written.
func TestHostileTemplateIsInert(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("TOPSECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `# {{title}}
{{.}} {{printf "%s" "x"}} {{template "layout"}} {{readFile "` + secret + `"}}
{{ title }} {{title}}{{title}} {{{{title}}}} {{env "HOME"}} {{define "x"}}{{end}}
`
	if err := os.WriteFile(filepath.Join(dir, "evil.md"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tpls, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tpls.Fill("evil", "{{date}} <b>", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `# {{date}} <b>
{{.}} {{printf "%s" "x"}} {{template "layout"}} {{readFile "` + secret + `"}}
{{ title }} {{date}} <b>{{date}} <b> {{{{date}} <b>}} {{env "HOME"}} {{define "x"}}{{end}}
`
	if text != want {
		t.Errorf("hostile template:\n got %q\nwant %q", text, want)
	}
	if strings.Contains(text, "TOPSECRET") {
		t.Error("template read a file")
	}
}

// RenderMarkdown is the pages' way to markdown.Render, whose tests hold
// the rendering and link policy (markdown.TestRender): the page gets the
// same HTML, marked safe.
func TestRenderMarkdown(t *testing.T) {
	src := "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1)) <script>alert(1)</script>\n"
	want, _ := markdown.Render(src)
	if got := string(RenderMarkdown(src)); got != string(want) || !strings.Contains(got, "<table>") || strings.Contains(got, "javascript:") || strings.Contains(got, "<script") {
		t.Errorf("RenderMarkdown = %s, markdown.Render = %s", got, want)
	}
}

func newTestPages(t *testing.T) *Pages {
	t.Helper()
	p, err := NewPages()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const hostileTitle = `<script>alert("x")</script>" onmouseover="y`

func assertEscaped(t *testing.T, page, html string) {
	t.Helper()
	if strings.Contains(html, "<script>alert") || strings.Contains(html, `" onmouseover="y`) {
		t.Errorf("%s page does not escape the title:\n%s", page, html)
	}
	if !strings.Contains(html, "&lt;script&gt;alert(") {
		t.Errorf("%s page does not show the escaped title", page)
	}
}

func TestPagesRender(t *testing.T) {
	p := newTestPages(t)
	static := Static()
	_, bundle := bundleVersion(static)
	if p.BundleOK() != bundle {
		t.Errorf("BundleOK = %v, bundle present = %v", p.BundleOK(), bundle)
	}
	id := scribe.NewNoteID()
	note := scribe.Note{ID: id, Title: hostileTitle, CreatedAt: testNow, UpdatedAt: testNow, Revision: 7}
	tpls, _ := LoadTemplates("")

	var buf bytes.Buffer
	if err := p.Home(&buf, HomeData{Notes: []scribe.Note{note}, Templates: tpls.List(), CanList: true, CanCreate: true}); err != nil {
		t.Fatal(err)
	}
	home := buf.String()
	assertEscaped(t, "home", home)
	for _, want := range []string{`href="/n/` + string(id) + `"`, `datetime="2026-11-24T19:05:00Z"`, `value="meeting"`, "Stand-up", "/static/app.js?v=", "/static/app.css?v="} {
		if !strings.Contains(home, want) {
			t.Errorf("home page lacks %q", want)
		}
	}

	buf.Reset()
	if err := p.Editor(&buf, EditorData{Note: note}); err != nil {
		t.Fatal(err)
	}
	editor := buf.String()
	assertEscaped(t, "editor", editor)
	if !strings.Contains(editor, `data-note-id="`+string(id)+`"`) {
		t.Error("editor page lacks data-note-id")
	}

	buf.Reset()
	tok := scribe.NewToken()
	err := p.ReadOnly(&buf, ReadOnlyData{Token: tok, Title: hostileTitle, Revision: 7, HTML: RenderMarkdown("# Hi\n\n<script>x</script>")})
	if err != nil {
		t.Fatal(err)
	}
	ro := buf.String()
	assertEscaped(t, "read-only", ro)
	if !strings.Contains(ro, `data-token="`+string(tok)+`"`) || !strings.Contains(ro, "<h1>Hi</h1>") {
		t.Errorf("read-only page lacks the token or the rendered note:\n%s", ro)
	}
	if strings.Contains(ro, "<script>x") || strings.Contains(ro, "data-note-id") || strings.Contains(ro, "/n/") {
		t.Errorf("read-only page leaks raw HTML or an edit link:\n%s", ro)
	}

	buf.Reset()
	if err := p.Error(&buf, ErrorData{Status: 404, Code: scribe.ENOTFOUND, Message: hostileTitle}); err != nil {
		t.Fatal(err)
	}
	errPage := buf.String()
	assertEscaped(t, "error", errPage)
	if !strings.Contains(errPage, "404 Not Found") || !strings.Contains(errPage, "ENOTFOUND") {
		t.Errorf("error page lacks status or code:\n%s", errPage)
	}
}

func TestMissingBundleNotice(t *testing.T) {
	p := newTestPages(t)
	p.bundleOK = false // as in a binary built before `make web`
	var buf bytes.Buffer
	if err := p.Home(&buf, HomeData{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "The web bundle is missing") || !strings.Contains(buf.String(), "make run") {
		t.Errorf("no missing-bundle notice:\n%s", buf.String())
	}
	p.bundleOK = true
	buf.Reset()
	_ = p.Home(&buf, HomeData{})
	if strings.Contains(buf.String(), "The web bundle is missing") {
		t.Error("missing-bundle notice shown with a bundle")
	}
}
