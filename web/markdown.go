package web

import (
	"html/template"

	"github.com/scribe-notes/scribe/markdown"
)

// RenderMarkdown renders a note for the read-only page with the one
// renderer, markdown.Render: GitHub-flavoured markdown, raw HTML omitted,
// only http, https, mailto and relative links. The result is safe to insert
// into a page.
func RenderMarkdown(src string) (out template.HTML) {
	defer func() {
		// goldmark is well tested, but a read-only page must never take the
		// server down: show the text escaped instead.
		if recover() != nil {
			out = template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
		}
	}()
	b, err := markdown.Render(src)
	if err != nil {
		// Render only fails when its writer does; a bytes.Buffer never does.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(b) //nolint:gosec // markdown.Render escapes text and drops raw HTML
}
