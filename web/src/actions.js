// The action items page (/actions): every task item of every note, by
// owner, overdue first (GET /api/actions). Ticking one is an edit of its
// note (POST /api/notes/{id}/tick), seen live by anyone who has it open.

import { api, showNotice } from './ui.js'

/**
 * @typedef {{note: string, title: string, date: string, line: number, source: string, text: string,
 *   owner?: string, due?: string, done: boolean, carried?: boolean, overdue: boolean}} Item
 */

/** The most items one page shows: the API's largest page. */
const PAGE = 500

/** @param {HTMLElement} root */
export function startActions (root) {
  const form = /** @type {HTMLFormElement|null} */ (document.getElementById('actions-filter'))
  if (!form) {
    root.dataset.ready = 'true'
    return
  }
  const owner = /** @type {HTMLInputElement} */ (document.getElementById('actions-owner'))
  const state = /** @type {HTMLSelectElement} */ (document.getElementById('actions-state'))
  const params = new URLSearchParams(location.search)
  owner.value = params.get('owner') || ''
  state.value = ['open', 'done', 'all'].includes(params.get('state') || '') ? String(params.get('state')) : 'open'

  const load = async () => {
    const q = new URLSearchParams({ state: state.value, limit: String(PAGE) })
    if (owner.value.trim()) q.set('owner', owner.value.trim())
    await render(root, q)
  }
  form.addEventListener('submit', e => {
    e.preventDefault()
    const q = new URLSearchParams()
    if (owner.value.trim()) q.set('owner', owner.value.trim())
    if (state.value !== 'open') q.set('state', state.value)
    history.replaceState(null, '', q.toString() ? `?${q}` : location.pathname)
    load()
  })
  state.addEventListener('change', () => form.requestSubmit())
  // Items ticked in a note meanwhile: show them as they are now.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') load() })
  load()
}

/**
 * render shows one group per owner, in the order the API gives.
 * @param {HTMLElement} root
 * @param {URLSearchParams} q
 */
async function render (root, q) {
  const groups = /** @type {HTMLElement} */ (document.getElementById('actions-groups'))
  const status = /** @type {HTMLElement} */ (document.getElementById('actions-status'))
  root.dataset.ready = 'false'
  /** @type {{total: number, items: Item[]}} */
  let page
  try {
    page = await api('GET', `/api/actions?${q}`)
  } catch (err) {
    status.textContent = `Could not load the action items: ${/** @type {Error} */ (err).message}`
    status.dataset.kind = 'error'
    root.dataset.ready = 'true'
    return
  }
  status.dataset.kind = 'info'
  const shown = page.items.length
  status.textContent = page.total === 0
    ? 'No action items match.'
    : `${page.total} action item${page.total === 1 ? '' : 's'}${shown < page.total ? `; the first ${shown} are shown` : ''}.`
  /** @type {Map<string, Item[]>} */
  const byOwner = new Map()
  for (const it of page.items) {
    const key = (it.owner || '').toLowerCase()
    if (!byOwner.has(key)) byOwner.set(key, [])
    byOwner.get(key)?.push(it)
  }
  const sections = []
  let n = 0
  for (const items of byOwner.values()) {
    const owner = items[0].owner
    const section = document.createElement('section')
    section.className = 'actions-group'
    const h = document.createElement('h2')
    h.id = `owner-${n++}`
    h.textContent = owner ? `@${owner}` : 'No owner'
    const overdue = items.filter(it => it.overdue).length
    if (overdue) {
      const b = document.createElement('span')
      b.className = 'badge overdue'
      b.textContent = `${overdue} overdue`
      h.append(' ', b)
    }
    section.setAttribute('aria-labelledby', h.id)
    const list = document.createElement('ul')
    list.className = 'action-list'
    section.append(h, list)
    sections.push(section)
    list.replaceChildren(...items.map(itemElement))
  }
  groups.replaceChildren(...sections)
  root.dataset.ready = 'true'
}

let ids = 0

/**
 * itemElement is one item: its box (ticking it edits the note), its text,
 * its due date, and a link to its line in its note.
 * @param {Item} it
 */
function itemElement (it) {
  const li = document.createElement('li')
  li.className = 'action-item'
  li.dataset.note = it.note
  li.dataset.line = String(it.line)
  li.dataset.overdue = String(it.overdue)
  const box = document.createElement('input')
  box.type = 'checkbox'
  box.id = `item-${ids++}`
  box.checked = it.done
  box.disabled = !!it.carried
  const label = document.createElement('label')
  label.htmlFor = box.id
  label.textContent = it.text
  li.append(box, label)
  if (it.due) {
    const due = document.createElement('span')
    due.className = 'action-due'
    due.textContent = it.overdue ? `overdue: due ${it.due}` : `due ${it.due}`
    li.append(' ', due)
  }
  if (it.carried) {
    const c = document.createElement('span')
    c.className = 'badge'
    c.textContent = 'carried over'
    li.append(' ', c)
  }
  const a = document.createElement('a')
  a.className = 'action-source'
  a.href = `/n/${encodeURIComponent(it.note)}#L${it.line}`
  a.textContent = `${it.title || 'Untitled note'}, ${it.date.slice(0, 10)}, line ${it.line}`
  li.append(' ', a)
  box.addEventListener('change', async () => {
    const done = box.checked
    box.disabled = true
    try {
      const res = await api('POST', `/api/notes/${encodeURIComponent(it.note)}/tick`, { line: it.line, source: it.source, done })
      // The item as it is in the note now, for the next tick.
      it.source = it.source.replace(/\[[ xX]\]/, done ? '[x]' : '[ ]')
      it.line = res.line
      it.done = done
      a.href = `/n/${encodeURIComponent(it.note)}#L${it.line}`
      li.dataset.done = String(done)
      showNotice(done ? `Ticked “${it.text}” in its note.` : `Unticked “${it.text}” in its note.`, 'success')
    } catch (err) {
      box.checked = !done
      showNotice(`Could not ${done ? 'tick' : 'untick'} “${it.text}”: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      box.disabled = false
    }
  })
  return li
}
