// Small helpers shared by the pages: the JSON API, notices, the connection
// indicator, the display name.

/**
 * api calls Scribe's JSON API. State-changing requests carry
 * Content-Type: application/json, which the server requires (CSRF).
 * Throws an Error whose message is the server's sentence on failure.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
export async function api (method, path, body) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' }
  if (method !== 'GET' && method !== 'HEAD') {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body === undefined ? {} : body)
  }
  let res
  try {
    res = await fetch(path, init)
  } catch {
    throw new Error('The server cannot be reached. Check your connection and try again.')
  }
  const text = await res.text()
  let data = null
  if (text) {
    try { data = JSON.parse(text) } catch { data = null }
  }
  if (!res.ok) {
    const msg = data && (data.message || (data.error && (data.error.message || data.error)))
    /** @type {Error & {status?: number, code?: string}} */
    const err = new Error(typeof msg === 'string' && msg ? msg : `The server answered ${res.status} ${res.statusText}.`)
    err.status = res.status
    err.code = data && (data.code || (data.error && data.error.code))
    throw err
  }
  return data
}

/**
 * showNotice shows a message in the page's notice area.
 * @param {string} text
 * @param {'info'|'error'|'success'|'warning'} [kind] warning: it worked, but not entirely (amber)
 * @param {Node} [extra] an element appended after the text
 */
export function showNotice (text, kind = 'info', extra) {
  const el = document.getElementById('notice')
  if (!el) return
  el.hidden = false
  el.dataset.kind = kind
  el.replaceChildren()
  const span = document.createElement('span')
  span.className = 'notice-text'
  span.textContent = text
  el.appendChild(span)
  if (extra) el.appendChild(extra)
  const close = document.createElement('button')
  close.type = 'button'
  close.className = 'notice-close'
  close.setAttribute('aria-label', 'Dismiss')
  close.textContent = '×'
  close.onclick = () => { el.hidden = true }
  el.appendChild(close)
}

/**
 * statusText words the connection indicator, calmly: nothing changes on a
 * normal keystroke. "Saving…" only once edits have waited more than
 * SAVING_AFTER_MS for the server; a lost network and an unreachable server
 * are told apart, and neither blames the person.
 * @param {string} status the CollabClient's status
 * @param {{pending?: number, changes?: number, saving?: boolean, onLine?: boolean, kept?: boolean}} [info]
 *   pending: unconfirmed edits (undefined on a read-only page); changes: how
 *   many places they touch; saving: some have waited too long; onLine:
 *   navigator.onLine; kept: they are kept on this device across the page's
 *   close (persist.js)
 * @returns {{text: string, detail: string}}
 */
export function statusText (status, info = {}) {
  const editor = info.pending !== undefined
  const changes = info.changes || 0
  const waiting = changes > 0 ? `${changes} change${changes === 1 ? '' : 's'} waiting to be sent${info.kept ? ', kept on this device' : ''}.` : ''
  switch (status) {
    case 'connecting':
      return { text: 'Connecting…', detail: '' }
    case 'connected':
      if (!editor) return { text: 'Connected', detail: '' }
      if (info.saving) return { text: 'Saving…', detail: waiting }
      return { text: 'Saved', detail: '' }
    case 'reconnecting':
      return { text: 'Reconnecting…', detail: waiting }
    case 'offline':
      if (info.onLine === false) {
        return { text: editor ? 'Offline — your changes are kept and will be sent' : 'Offline', detail: waiting }
      }
      return { text: editor ? 'Can\'t reach Scribe — retrying, your changes are kept' : 'Can\'t reach Scribe — retrying', detail: waiting }
    case 'gone':
      return { text: 'Disconnected', detail: '' }
  }
  return { text: status, detail: '' }
}

/**
 * renderStatus updates the connection indicator (see statusText).
 * @param {string} status
 * @param {{pending?: number, changes?: number, saving?: boolean, kept?: boolean}} [info]
 */
export function renderStatus (status, info = {}) {
  const el = document.getElementById('conn-status')
  if (!el) return
  const { text, detail } = statusText(status, { ...info, onLine: navigator.onLine })
  if (el.dataset.state !== status) el.dataset.state = status
  el.dataset.saving = String(!!info.saving)
  const t = el.querySelector('.conn-text')
  // Touch the DOM only when the words change: a live region re-announces every write.
  if (t && t.textContent !== text) t.textContent = text
  const p = document.getElementById('conn-pending')
  if (p) {
    const count = String(info.changes || 0)
    if (p.dataset.count !== count) p.dataset.count = count
    if (p.textContent !== detail) p.textContent = detail
  }
  if (el.title !== detail) el.title = detail
}

/**
 * changeCount counts the places an operation changes: each run of inserts
 * and deletes between two retains is one change, however many keystrokes
 * made it.
 * @param {import('./ot.js').Op|null|undefined} op
 */
export function changeCount (op) {
  if (!op) return 0
  let n = 0
  let inRun = false
  for (const c of op) {
    const edit = typeof c === 'string' || c < 0
    if (edit && !inRun) n++
    inRun = edit
  }
  return n
}

/**
 * The display name remembered in this browser, or "" when there is none:
 * the editor then asks (a person is never given a made-up name).
 */
export function loadName () {
  try {
    const n = localStorage.getItem('scribe.name')
    if (n && n.trim()) return n.trim().slice(0, 64)
  } catch { /* storage disabled */ }
  return ''
}

/**
 * Remember the display name in this browser.
 * @param {string} name
 */
export function saveName (name) {
  try { localStorage.setItem('scribe.name', name) } catch { /* storage disabled */ }
}

/**
 * relativeTime says how long ago a time was, in words.
 * @param {Date} t
 * @param {Date} [now]
 */
export function relativeTime (t, now = new Date()) {
  const s = Math.round((now.getTime() - t.getTime()) / 1000)
  if (!Number.isFinite(s)) return ''
  if (s < 45) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} hour${h === 1 ? '' : 's'} ago`
  const d = Math.round(h / 24)
  if (d < 7) return `${d} day${d === 1 ? '' : 's'} ago`
  return t.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
}

/**
 * Rewrite every <time datetime> in root as relative local time, with the exact time as a tooltip.
 * @param {ParentNode} [root]
 */
export function localizeTimes (root = document) {
  for (const el of /** @type {NodeListOf<HTMLTimeElement>} */ (root.querySelectorAll('time[datetime]'))) {
    const t = new Date(/** @type {string} */ (el.getAttribute('datetime')))
    if (Number.isNaN(t.getTime())) continue
    el.title = t.toLocaleString()
    el.textContent = relativeTime(t)
  }
}

/**
 * fillList shows in list one item per entry load gives, or one line saying
 * there are none (empty) or that they could not be loaded (what names
 * them: "the links").
 * @template T
 * @param {HTMLElement} list
 * @param {() => Promise<T[]>} load
 * @param {string} what
 * @param {string} empty
 * @param {(entry: T) => HTMLElement} item
 */
export async function fillList (list, load, what, empty, item) {
  let entries
  try {
    entries = await load()
  } catch (err) {
    const li = document.createElement('li')
    li.textContent = `Could not load ${what}: ${/** @type {Error} */ (err).message}`
    list.replaceChildren(li)
    return
  }
  if (entries.length === 0) {
    const li = document.createElement('li')
    li.className = 'empty'
    li.textContent = empty
    list.replaceChildren(li)
    return
  }
  list.replaceChildren(...entries.map(item))
}

/**
 * What the presence list says of the read-only viewers: "1 viewer",
 * "4,950 viewers". They are counted, never listed (docs/protocol.md).
 * @param {number} n
 * @returns {string}
 */
export function viewersText (n) {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'viewer' : 'viewers'}`
}
