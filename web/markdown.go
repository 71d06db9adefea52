package web

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// md is safe for concurrent use: goldmark's Markdown keeps no per-call state.
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkFilter{}, 0))),
	// No html.WithUnsafe: raw HTML blocks and inline HTML are dropped
	// (rendered as "<!-- raw HTML omitted -->").
)

// RenderMarkdown renders GitHub-flavoured markdown (tables, task lists,
// strikethrough, autolinks) to HTML for the read-only page. Raw HTML in the
// source is omitted, never passed through, and a link or image whose URL has
// a scheme other than http, https or mailto (javascript:, data:, vbscript:,
// file:, ...) loses its URL. The result is safe to insert into a page.
func RenderMarkdown(src string) (out template.HTML) {
	defer func() {
		// goldmark is well tested, but a read-only page must never take the
		// server down: show the text escaped instead.
		if recover() != nil {
			out = template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
		}
	}()
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// Convert only fails when the writer does; a bytes.Buffer never does.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without WithUnsafe escapes text and drops raw HTML
}

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
