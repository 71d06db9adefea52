// Client-side markdown rendering for the read-only page: markdown-it with
// raw HTML disabled (html: false escapes it) and its default link
// validation (javascript:, vbscript:, file: and non-image data: URLs are
// refused), plus GitHub-style task lists to match the server's goldmark
// first paint.

import MarkdownIt from 'markdown-it'

const md = new MarkdownIt({ html: false, linkify: true, typographer: false })

// Only http(s), mailto and relative links, as the server's renderer allows.
const defaultValidate = md.validateLink
md.validateLink = url => {
  if (!defaultValidate(url)) return false
  // eslint-disable-next-line no-control-regex
  const s = url.replace(/[\u0000-\u0020\u007f]/g, '')
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(s)
  return !m || ['http', 'https', 'mailto'].includes(m[1].toLowerCase())
}

// Task lists: "- [ ] x" and "- [x] x" become disabled checkboxes.
md.core.ruler.after('inline', 'task-lists', state => {
  const tokens = state.tokens
  for (let i = 2; i < tokens.length; i++) {
    const tok = tokens[i]
    if (tok.type !== 'inline' || tokens[i - 1].type !== 'paragraph_open' || tokens[i - 2].type !== 'list_item_open') continue
    if (!tok.children) continue
    const first = tok.children[0]
    if (!first || first.type !== 'text') continue
    const m = /^\[([ xX])\](?=\s|$)\s?/.exec(first.content)
    if (!m) continue
    first.content = first.content.slice(m[0].length)
    const box = new state.Token('html_inline', '', 0)
    box.content = `<input type="checkbox" disabled${m[1] === ' ' ? '' : ' checked'}> `
    tok.children.unshift(box)
    tokens[i - 2].attrJoin('class', 'task-list-item')
  }
})

/**
 * renderMarkdown renders markdown to HTML that is safe to assign to
 * innerHTML: raw HTML in the source comes out escaped.
 * @param {string} src
 * @returns {string}
 */
export function renderMarkdown (src) {
  return md.render(src)
}
