// Package markdown is the one markdown renderer for the read-only page,
// download.html and export: one goldmark configuration (CommonMark plus the
// GitHub extensions, no raw HTML, only http, https, mailto and relative
// links), so what a reader sees on a share link, in a downloaded page and
// what export extracts from a note are read from the same tree.
//
// Every render and parse is bounded (Limits, docs/operations.md): a pre-scan
// refuses the inputs on which goldmark's parser is quadratic, the HTML has a
// byte budget and the wait a time budget, and past any of them the note is
// shown as its escaped source in a <pre>. A Renderer runs a few at once and
// caches what it rendered.
//
// Everything here is safe for concurrent use: goldmark's Markdown and
// Parser keep no per-call state.
package markdown

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/scribe-notes/scribe"
)

// md is the one configuration. There is no html.WithUnsafe: raw HTML blocks
// and inline HTML are dropped (rendered as "<!-- raw HTML omitted -->").
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkFilter{}, 0))),
)

// Parser returns the parser Render uses, unbounded: code that reads a
// note's structure should call Parse, which applies the limits. The tree it
// returns has already been through the link filter.
func Parser() parser.Parser { return md.Parser() }

// Parse is Default().Parse: the note's tree, after the link filter, or nil
// and the reason when the note is past DefaultLimits.
func Parse(src []byte) (ast.Node, error) { return defaultRenderer.Parse(src) }

// Render renders GitHub-flavoured markdown (tables, task lists,
// strikethrough, autolinks) to an HTML fragment. Raw HTML in the source is
// omitted, never passed through, and a link or image whose URL has a scheme
// other than http, https or mailto (javascript:, data:, vbscript:, file:,
// ...) loses its URL. The result is safe to insert into a page.
//
// Render is Default().Render: past DefaultLimits it returns the fallback
// (Fallback) and an error saying why; the HTML is usable either way.
func Render(src string) ([]byte, error) { return defaultRenderer.Render(src) }

// maxTitleRunes bounds the title in a page's <title>.
const maxTitleRunes = 200

// Page renders a note as a complete, standalone HTML document, the
// ".html" download: Render's fragment inside a page with its own styles
// (light and dark) and a Content-Security-Policy that forbids scripts, as a
// second line of defence when the file is opened from disk. The title is
// cleaned with scribe.CleanText and escaped; an empty one reads
// "Untitled note". It is Default().Page: past DefaultLimits the page holds
// the fallback and the error says why.
func Page(title, src string) ([]byte, error) { return defaultRenderer.Page(title, src) }

func page(title string, body []byte) []byte {
	title = scribe.CleanText(title, maxTitleRunes)
	if title == "" {
		title = "Untitled note"
	}
	var out bytes.Buffer
	out.Grow(len(body) + len(pageHead) + 256)
	fmt.Fprintf(&out, pageHead, html.EscapeString(title))
	out.Write(body)
	out.WriteString("</main>\n</body>\n</html>\n")
	return out.Bytes()
}

const pageHead = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https: data:; style-src 'unsafe-inline'">
<meta name="generator" content="Scribe">
<title>%s</title>
<style>
body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.75rem; overflow: auto; border-radius: 6px; }
code { background: #f6f8fa; padding: 0.1em 0.3em; border-radius: 4px; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; }
blockquote { margin: 0; padding-left: 1rem; border-left: 4px solid #d0d7de; color: #59636e; }
li:has(> input[type=checkbox]) { list-style: none; }
img { max-width: 100%%; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; }
  pre, code { background: #161b22; }
  th, td { border-color: #30363d; }
  blockquote { border-color: #30363d; color: #9198a1; }
  a { color: #4493f8; }
}
</style>
</head>
<body>
<main>
`

// linkFilter blanks link and image destinations with a scheme outside an
// allow-list. goldmark already drops javascript:, vbscript:, file: and
// non-image data: URLs; this is a second, stricter line that also catches
// schemes browsers may add later.
type linkFilter struct{}

func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var unsafeAutoLinks []*ast.AutoLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !safeURL(n.Destination) {
				n.Destination = nil
			}
		case *ast.Image:
			if !safeURL(n.Destination) {
				n.Destination = nil
			}
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkURL && !safeURL(n.URL(source)) {
				unsafeAutoLinks = append(unsafeAutoLinks, n)
			}
		}
		return ast.WalkContinue, nil
	})
	// Replaced after the walk, which must not see its tree change under it.
	for _, n := range unsafeAutoLinks {
		if parent := n.Parent(); parent != nil {
			parent.ReplaceChild(parent, n, ast.NewString(n.Label(source)))
		}
	}
}

// safeURL reports whether a destination is relative, a fragment, or uses
// http, https or mailto. Browsers ignore ASCII whitespace and control
// characters inside a scheme, so those are removed before checking.
func safeURL(dest []byte) bool {
	s := strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, string(dest))
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true // no scheme: relative path, query or fragment
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}
