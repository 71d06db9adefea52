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

// Task lists: "- [ ] x" and "- [x] x" become disabled checkboxes (in the
// editor's preview, with env.tasks, enabled ones that name their line).
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
    const item = tokens[i - 2]
    const line = item.map ? item.map[0] : -1
    box.content = state.env && state.env.tasks && line >= 0
      ? `<input type="checkbox" data-line="${line}" aria-label="Done"${m[1] === ' ' ? '' : ' checked'}> `
      : `<input type="checkbox" disabled aria-label="Done"${m[1] === ' ' ? '' : ' checked'}> `
    tok.children.unshift(box)
    tokens[i - 2].attrJoin('class', 'task-list-item')
  }
})

// With env.lines, every block names its first source line (data-line),
// for the editor's preview to scroll along with the text.
md.core.ruler.push('source-lines', state => {
  if (!state.env || !state.env.lines) return
  for (const tok of state.tokens) {
    if (tok.map && tok.nesting === 1) tok.attrSet('data-line', String(tok.map[0]))
  }
})

/**
 * renderMarkdown renders markdown to HTML that is safe to assign to
 * innerHTML: raw HTML in the source comes out escaped. The options are the
 * editor preview's: source line numbers on blocks, and task checkboxes that
 * can be ticked (they name the 0-based line of their item).
 * @param {string} src
 * @param {{lines?: boolean, tasks?: boolean}} [opts]
 * @returns {string}
 */
export function renderMarkdown (src, opts) {
  return md.render(src, opts ? { ...opts } : {})
}

/**
 * headings lists the note's headings for a table of contents.
 * @param {string} src
 * @returns {{level: number, text: string, line: number}[]}
 */
export function headings (src) {
  const tokens = md.parse(src, {})
  const out = []
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]
    if (t.type !== 'heading_open' || !t.map) continue
    const text = (tokens[i + 1].children || []).filter(c => c.type === 'text' || c.type === 'code_inline').map(c => c.content).join('').trim()
    if (text) out.push({ level: Number(t.tag.slice(1)), text, line: t.map[0] })
  }
  return out
}

/**
 * toggleTask is the edit that ticks or unticks the task on line (0-based)
 * of text: the change for the one character between the brackets, or
 * null if that line holds no task.
 * @param {string} text
 * @param {number} line
 * @returns {{from: number, to: number, insert: string}|null}
 */
export function toggleTask (text, line) {
  let start = 0
  for (let n = 0; n < line; n++) {
    start = text.indexOf('\n', start) + 1
    if (start === 0) return null
  }
  const end = text.indexOf('\n', start)
  const m = /^(\s*(?:[-*+]|\d+[.)]) \[)([ xX])\]/.exec(text.slice(start, end === -1 ? text.length : end))
  if (!m) return null
  const at = start + m[1].length
  return { from: at, to: at + 1, insert: m[2] === ' ' ? 'x' : ' ' }
}
