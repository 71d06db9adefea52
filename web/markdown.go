package web

import (
	"html/template"

	"github.com/scribe-notes/scribe/markdown"
)

// RenderMarkdown renders a note for the read-only page with the default
// markdown.Renderer: GitHub-flavoured markdown, raw HTML omitted, only http,
// https, mailto and relative links, within markdown.DefaultLimits. The
// result is safe to insert into a page.
func RenderMarkdown(src string) template.HTML {
	return HTML(markdown.Render(src))
}

// HTML marks what a markdown.Renderer returned as safe to insert into a
// page. The renderer's error only says that the HTML is its fallback (the
// source escaped in a <pre>), which is as safe.
func HTML(b []byte, _ error) template.HTML {
	return template.HTML(b) //nolint:gosec // markdown renders escape text, drop raw HTML; the fallback is escaped
}
