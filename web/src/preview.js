// The editor's preview: the note rendered beside the text (split) or
// instead of it (read), chosen per person and remembered in this browser;
// task boxes that tick by editing the text; a table of contents that jumps
// to a heading. The rendering is the read-only page's (markdown.js): no raw
// HTML, the same link policy.

import { EditorView } from '@codemirror/view'
import { renderMarkdown, headings, toggleTask } from './markdown.js'

const VIEWS = ['edit', 'split', 'read']
const STORAGE_KEY = 'scribe.view'

/** The view this person chose last, else the text alone. */
function loadView () {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    if (v && VIEWS.includes(v)) return v
  } catch { /* storage disabled */ }
  return 'edit'
}

/**
 * setupPreview wires the view switch, the preview pane and the contents
 * list to an editor. Call the returned function after every change of the text.
 * @param {EditorView} view
 * @returns {() => void}
 */
export function setupPreview (view) {
  const layout = /** @type {HTMLElement} */ (document.getElementById('main'))
  const pane = /** @type {HTMLElement} */ (document.getElementById('preview'))
  const toc = /** @type {HTMLElement} */ (document.getElementById('toc'))
  const tocList = /** @type {HTMLElement} */ (document.getElementById('toc-list'))
  const buttons = /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[data-view-choice]')])
  let mode = loadView()
  let frame = 0
  /** @type {import('@codemirror/state').Text|null} */
  let drawn = null
  let tocKey = ''

  const draw = () => {
    frame = 0
    const doc = view.state.doc
    if (doc === drawn) return
    drawn = doc
    const text = doc.toString()
    if (mode !== 'edit') {
      pane.innerHTML = renderMarkdown(text, { lines: true, tasks: true })
      syncScroll()
    }
    const hs = headings(text)
    const key = JSON.stringify(hs)
    if (key !== tocKey) {
      tocKey = key
      tocList.replaceChildren(...hs.map(h => {
        const li = document.createElement('li')
        li.style.paddingLeft = `${(h.level - 1) * 0.75}em`
        const b = document.createElement('button')
        b.type = 'button'
        b.className = 'toc-link'
        b.textContent = h.text
        b.addEventListener('click', () => jump(h.line))
        li.appendChild(b)
        return li
      }))
      toc.hidden = hs.length === 0
    }
  }
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw)
  }

  /** @param {string} m */
  function setMode (m) {
    mode = m
    layout.dataset.view = m
    pane.hidden = m === 'edit'
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.viewChoice === m))
    drawn = null
    draw()
  }

  /**
   * Jump to a heading's line (0-based): in the text, and in the preview.
   * @param {number} line
   */
  function jump (line) {
    if (mode !== 'read') {
      const pos = view.state.doc.line(line + 1).from
      view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: 'start' }) })
      view.focus()
    }
    if (mode !== 'edit') {
      const el = pane.querySelector(`[data-line="${line}"]`)
      if (el) {
        el.scrollIntoView({ block: 'start' })
        if (mode === 'read') {
          const h = /** @type {HTMLElement} */ (el)
          h.tabIndex = -1
          h.focus()
        }
      }
    }
  }

  // The preview follows the text's scrolling: the block at the top of the
  // editor goes to the top of the preview.
  function syncScroll () {
    if (mode !== 'split') return
    const top = view.lineBlockAtHeight(view.scrollDOM.scrollTop)
    const line = view.state.doc.lineAt(top.from).number - 1
    let target = null
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (pane.querySelectorAll('[data-line]'))) {
      if (Number(el.dataset.line) <= line) target = el
      else break
    }
    pane.scrollTop = target ? target.offsetTop - pane.offsetTop : 0
  }
  view.scrollDOM.addEventListener('scroll', () => requestAnimationFrame(syncScroll), { passive: true })

  // A ticked box is an edit of the text, sent like typing.
  pane.addEventListener('change', e => {
    const box = /** @type {HTMLInputElement} */ (e.target)
    if (!box.matches('input[type=checkbox][data-line]')) return
    const change = toggleTask(view.state.doc.toString(), Number(box.dataset.line))
    if (!change || view.state.readOnly) {
      box.checked = !box.checked
      return
    }
    view.dispatch({ changes: change, userEvent: 'input.task' })
  })

  for (const b of buttons) {
    b.addEventListener('click', () => {
      const m = /** @type {string} */ (b.dataset.viewChoice)
      try { localStorage.setItem(STORAGE_KEY, m) } catch { /* storage disabled */ }
      setMode(m)
    })
  }
  setMode(mode)
  return schedule
}
