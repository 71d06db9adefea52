package export

import (
	"bytes"
	"fmt"
	"html"
)

// RenderHTML renders a note as a complete, standalone HTML document for the
// ".html" download.
//
// The markdown is rendered with goldmark and the GitHub extensions (tables,
// task lists, strikethrough, autolinks). Raw HTML in the note is dropped
// (goldmark's safe default, which Scribe never turns off), links and images
// with dangerous schemes (javascript:, vbscript:, data: other than images)
// lose their URL, and the title is escaped. The document carries a
// Content-Security-Policy that forbids scripts, as a second line of defence
// when the file is opened from disk.
func RenderHTML(title, md string) ([]byte, error) {
	var body bytes.Buffer
	if err := markdown.Convert([]byte(md), &body); err != nil {
		return nil, fmt.Errorf("render markdown: %w", err)
	}
	var out bytes.Buffer
	out.Grow(body.Len() + len(htmlHead) + 256)
	fmt.Fprintf(&out, htmlHead, html.EscapeString(cleanLine(title)))
	out.Write(body.Bytes())
	out.WriteString("</main>\n</body>\n</html>\n")
	return out.Bytes(), nil
}

const htmlHead = `<!DOCTYPE html>
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
