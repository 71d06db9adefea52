// Who wrote what, in the browser: the twin of the Go package authorship
// (both pass authorship/testdata/vectors.json). Spans are [length, author
// key] in UTF-16 code units, the key being colors.js personKey (null for
// the template's text, which nobody typed). The editor keeps them in a
// CodeMirror state field, moved through every change it applies (its own
// as its person's, a peer's op as that peer's) and colours each character
// by its author when "Show authors" is on; renderAuthored and renderLegend
// draw the same colours outside an editor (the history page).

import { Annotation, StateEffect, StateField } from '@codemirror/state'
import { Decoration, EditorView } from '@codemirror/view'
import { hexAlpha, remoteChange } from './cm.js'

/** @typedef {[number, string|null]} Span */
/** @typedef {{key: string, name: string, color?: string}} Author */

/** How strongly an author's colour tints the text behind it. */
export const TINT = 0.28

/**
 * push appends n units by key to spans, merging with the last span.
 * @param {Span[]} spans
 * @param {number} n
 * @param {string|null} key
 */
function push (spans, n, key) {
  if (n <= 0) return
  const last = spans[spans.length - 1]
  if (last && last[1] === key) last[0] += n
  else spans.push([n, key])
}

/**
 * spansLength is the length of the text spans cover.
 * @param {Span[]} spans
 */
export function spansLength (spans) {
  let n = 0
  for (const s of spans) n += s[0]
  return n
}

/**
 * applyOp moves spans through an ot.js operation made by key: what it
 * inserts is key's, what it deletes is gone, what it retains keeps its
 * author. It returns new spans; an op that does not fit throws.
 * @param {Span[]} spans
 * @param {import('./ot.js').Op} op
 * @param {string|null} key
 * @returns {Span[]}
 */
export function applyOp (spans, op, key) {
  /** @type {Span[]} */
  const out = []
  let i = 0
  let off = 0
  /** @param {number} n @param {boolean} keep */
  const take = (n, keep) => {
    while (n > 0) {
      const s = spans[i]
      if (!s) throw new Error('authors: the operation is longer than the text')
      const k = Math.min(n, s[0] - off)
      if (keep) push(out, k, s[1])
      off += k
      n -= k
      if (off === s[0]) { i++; off = 0 }
    }
  }
  for (const c of op) {
    if (typeof c === 'string') push(out, c.length, key)
    else if (c > 0) take(c, true)
    else take(-c, false)
  }
  if (i < spans.length) throw new Error('authors: the operation is shorter than the text')
  return out
}

/**
 * fromAPI reads GET /api/notes/{id}/authors: spans by key and the legend.
 * @param {{rev: number, spans: [number, number][], authors: Author[]}} res
 * @returns {{rev: number, spans: Span[], authors: Author[]}}
 */
export function fromAPI (res) {
  const authors = Array.isArray(res.authors) ? res.authors : []
  /** @type {Span[]} */
  const spans = []
  for (const [n, who] of res.spans || []) push(spans, n, who >= 0 && authors[who] ? authors[who].key : null)
  return { rev: res.rev, spans, authors }
}

/**
 * keysOf lists the authors spans name, in order of their first character.
 * @param {Span[]} spans
 * @returns {string[]}
 */
export function keysOf (spans) {
  const seen = new Set()
  for (const [, k] of spans) if (k !== null) seen.add(k)
  return [...seen]
}

// --- the editor: a state field of spans, and their colours ---

/** On a remote transaction: who made it (a key), or null when not known. */
export const authorOf = Annotation.define()

/**
 * The field's value. log, while a sync is under way, records every change
 * since it asked the server; unknown says a change by someone not known
 * here (an API edit, a catch-up) was applied, so a sync is due.
 * @typedef {{spans: Span[]|null, me: string, colors: Map<string, string>, on: boolean, log: {op: import('./ot.js').Op, key: string|null}[]|null, unknown: boolean}} AuthorsState
 */

/**
 * Sets the spans, ending a sync.
 * @type {import('@codemirror/state').StateEffectType<{spans: Span[]}>}
 */
export const setAuthorSpans = StateEffect.define()
/**
 * Starts a sync: changes are recorded from now on.
 * @type {import('@codemirror/state').StateEffectType<null>}
 */
export const startAuthorSync = StateEffect.define()
/**
 * Sets who types here (me, a key), the colours, and whether they show (on).
 * @type {import('@codemirror/state').StateEffectType<{me: string, colors: Map<string, string>, on: boolean}>}
 */
export const setAuthorView = StateEffect.define()

/**
 * changeOp turns a transaction's changes into an ot op (as cm.js
 * changesToOp does).
 * @param {import('@codemirror/state').Transaction} tr
 * @returns {import('./ot.js').Op}
 */
function changeOp (tr) {
  /** @type {import('./ot.js').Op} */
  const op = []
  let pos = 0
  tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    if (fromA > pos) op.push(fromA - pos)
    const s = inserted.toString()
    if (s) op.push(s)
    if (toA > fromA) op.push(fromA - toA)
    pos = toA
  })
  if (tr.startState.doc.length > pos) op.push(tr.startState.doc.length - pos)
  return op
}

/** The authorship of the editor's text. */
export const authorsField = StateField.define({
  /** @returns {AuthorsState} */
  create () { return { spans: null, me: '', colors: new Map(), on: false, log: null, unknown: false } },
  /** @param {AuthorsState} st */
  update (st, tr) {
    let next = st
    for (const e of tr.effects) {
      if (e.is(setAuthorView)) next = { ...next, ...e.value }
      if (e.is(startAuthorSync)) next = { ...next, log: [], unknown: false }
      if (e.is(setAuthorSpans)) next = { ...next, spans: e.value.spans, log: null }
    }
    if (!tr.docChanged) return next
    // A remote change says whose it is; one that does not (the editor
    // putting the client's text back) is nobody known.
    const remote = tr.annotation(authorOf)
    const key = remote !== undefined ? remote : tr.annotation(remoteChange) ? null : next.me
    const op = changeOp(tr)
    if (next.log) next = { ...next, log: [...next.log, { op, key }] }
    if (next.spans === null) return next
    try {
      const inserts = op.some(c => typeof c === 'string')
      return { ...next, spans: applyOp(next.spans, op, key), unknown: next.unknown || (key === null && inserts) }
    } catch {
      return { ...next, spans: null, unknown: true } // cannot happen; the next sync fixes it
    }
  },
  provide: f => EditorView.decorations.from(f, st => st.on && st.spans ? authorMarks(st.spans, st.colors) : Decoration.none)
})

/**
 * authorMarks tints each author's characters with their colour.
 * @param {Span[]} spans
 * @param {Map<string, string>} colors
 */
function authorMarks (spans, colors) {
  const marks = []
  let pos = 0
  for (const [n, key] of spans) {
    if (key !== null) {
      const color = colors.get(key) || '#bbbbbb'
      marks.push(Decoration.mark({
        class: 'cm-author',
        attributes: { 'data-author': key, style: `background-color: ${hexAlpha(color, TINT)}` }
      }).range(pos, pos + n))
    }
    pos += n
  }
  return Decoration.set(marks)
}

/**
 * replayed is spans from the server moved through the ops the editor's
 * text had on top of that revision when it was asked (the client's
 * unconfirmed ops, by me) and the changes recorded since.
 * @param {Span[]} spans
 * @param {import('./ot.js').Op[]} mine
 * @param {string} me
 * @param {{op: import('./ot.js').Op, key: string|null}[]} log
 */
export function replayed (spans, mine, me, log) {
  for (const op of mine) spans = applyOp(spans, op, me)
  for (const c of log) spans = applyOp(spans, c.op, c.key)
  return spans
}

// --- outside an editor ---

/**
 * renderAuthored fills el with text, each author's characters in a span
 * tinted with their colour (data-author holds the key). For the history
 * page: pass the text and spans of one revision (fromAPI).
 * @param {HTMLElement} el
 * @param {string} text
 * @param {Span[]} spans
 * @param {(key: string) => string} colorOf
 * @param {(key: string) => string} [nameOf] each run's title (who wrote it)
 */
export function renderAuthored (el, text, spans, colorOf, nameOf) {
  const parts = []
  let pos = 0
  for (const [n, key] of spans) {
    const s = text.slice(pos, pos + n)
    pos += n
    if (key === null) {
      parts.push(document.createTextNode(s))
      continue
    }
    const span = document.createElement('span')
    span.className = 'author-run'
    span.dataset.author = key
    span.style.backgroundColor = hexAlpha(colorOf(key), TINT)
    if (nameOf) span.title = nameOf(key)
    span.textContent = s
    parts.push(span)
  }
  if (pos < text.length) parts.push(document.createTextNode(text.slice(pos)))
  el.replaceChildren(...parts)
}

/**
 * renderLegend lists authors with their colours in el (a <ul>).
 * @param {HTMLElement} el
 * @param {Author[]} authors
 * @param {(key: string) => string} colorOf
 * @param {string} [me] the key of the person looking, marked "(you)"
 */
export function renderLegend (el, authors, colorOf, me) {
  el.replaceChildren(...authors.map(a => {
    const li = document.createElement('li')
    li.className = 'legend-item'
    li.dataset.author = a.key
    const swatch = document.createElement('span')
    swatch.className = 'legend-swatch'
    swatch.style.backgroundColor = hexAlpha(colorOf(a.key), TINT)
    swatch.style.borderColor = colorOf(a.key)
    swatch.setAttribute('aria-hidden', 'true')
    const name = document.createElement('span')
    name.textContent = a.key === me ? `${a.name} (you)` : a.name
    li.append(swatch, name)
    return li
  }))
}

// --- the editor's toggle ---

const STORAGE_KEY = 'scribe.showAuthors'

/** Whether this device shows authors (the editor's and the history page's toggle). */
export function loadShowAuthors () {
  try { return localStorage.getItem(STORAGE_KEY) === '1' } catch { return false }
}

/** @param {boolean} on */
export function saveShowAuthors (on) {
  try { localStorage.setItem(STORAGE_KEY, on ? '1' : '0') } catch { /* storage disabled */ }
}

/**
 * setupAuthors wires the "Show authors" toggle (remembered on this device)
 * to an editor whose state has authorsField: it fetches who wrote the
 * text when the toggle goes on, and again whenever a change by someone not
 * known here arrived (an API edit, a catch-up after a reconnect). Without
 * the toggle on the page (people who may not read the history), nothing.
 * Call render(colorOf, me) after each change of the people or the text
 * (and when o.changed asks), and add keys() to the keys colours are
 * chosen for.
 * @param {{view: EditorView, noteID: string, client: {rev: number, synced: boolean, inflight: {op: import('./ot.js').Op}|null, buffer: {op: import('./ot.js').Op}|null, peerList: () => {name: string, person?: string}[]}, fetchAuthors: (rev: number) => Promise<any>, nameOf: (key: string) => string|undefined, changed: () => void}} o
 */
export function setupAuthors (o) {
  const button = /** @type {HTMLButtonElement|null} */ (document.getElementById('authors-button'))
  const legend = /** @type {HTMLElement|null} */ (document.getElementById('authors-legend'))
  const list = /** @type {HTMLElement|null} */ (document.getElementById('authors-list'))
  /** @type {Map<string, string>} names the server told of */
  const names = new Map()
  let on = !!button && loadShowAuthors()
  let syncing = false
  let again = false
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer
  const state = () => o.view.state.field(authorsField)

  async function sync () {
    if (syncing) { again = true; return }
    if (!o.client.synced) return
    syncing = true
    const rev = o.client.rev
    const mine = [o.client.inflight, o.client.buffer].filter(x => x).map(x => /** @type {{op: import('./ot.js').Op}} */ (x).op)
    o.view.dispatch({ effects: startAuthorSync.of(null) })
    try {
      const got = fromAPI(await o.fetchAuthors(rev))
      for (const a of got.authors) names.set(a.key, a.name)
      const st = state()
      const spans = replayed(got.spans, mine, st.me, st.log || [])
      if (spansLength(spans) !== o.view.state.doc.length) throw new Error('authors: the text moved on')
      o.view.dispatch({ effects: setAuthorSpans.of({ spans }) })
      o.changed()
    } catch (err) {
      console.warn('scribe: who wrote what could not be read:', err)
      again = again || on
    } finally {
      syncing = false
      if (again && on) {
        again = false
        schedule(1000)
      }
    }
  }

  /** @param {number} ms */
  function schedule (ms) {
    if (timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; sync() }, ms)
  }

  /** @param {boolean} v */
  function set (v) {
    on = v
    saveShowAuthors(v)
    if (button) button.setAttribute('aria-pressed', String(v))
    if (legend) legend.hidden = !v
    if (v && state().spans === null) sync()
    o.changed()
  }
  if (button) {
    button.addEventListener('click', () => set(!on))
    set(on)
  }

  return {
    /** The authors of the text while shown (for choosing colours). */
    keys () { return on && state().spans ? keysOf(/** @type {Span[]} */ (state().spans)) : [] },
    /** Whether the person chose to see them. */
    get on () { return on },
    /**
     * render updates the colours and the legend; and syncs when the
     * spans are not known yet (the page just connected) or a change by
     * someone unknown came.
     * @param {(key: string) => string} colorOf
     * @param {string} me
     */
    render (colorOf, me) {
      const st = state()
      const keys = this.keys()
      if (on && o.client.synced && !syncing && (st.spans === null || st.unknown)) schedule(st.unknown ? 300 : 0)
      /** @type {Map<string, string>} */
      const colors = new Map(keys.map(k => [k, colorOf(k)]))
      const same = st.on === on && st.me === me && st.colors.size === colors.size && [...colors].every(([k, c]) => st.colors.get(k) === c)
      if (!same) o.view.dispatch({ effects: setAuthorView.of({ colors, me, on }) })
      if (list && on) {
        renderLegend(list, keys.map(k => ({ key: k, name: o.nameOf(k) || names.get(k) || 'Someone' })), colorOf, me)
      }
    }
  }
}
