// The history page (/n/{id}/history): a timeslider that plays the note back
// revision by revision, the checkpoint list, a diff between any two
// revisions, naming a revision and restoring one. Everything comes from the
// history API (docs/api.md "History"); the head follows the note live by
// polling GET /api/notes/{id} with its ETag.

import { fromAPI, loadShowAuthors, renderAuthored, renderLegend, saveShowAuthors } from './authors.js'
import { api, fillList, localizeTimes, relativeTime, showNotice } from './ui.js'

/**
 * @typedef {object} Checkpoint
 * @property {number} rev
 * @property {string} time
 * @property {number} since
 * @property {string[]} authors
 * @property {number} added
 * @property {number} removed
 * @property {string[]} [names]
 */

/**
 * @typedef {object} Revision what the timeslider shows at one revision
 * @property {number} rev
 * @property {string} text
 * @property {Checkpoint} at the checkpoint ending at rev: its time, who edited up to it
 * @property {{spans: import('./authors.js').Span[], authors: import('./authors.js').Author[]}} authors who wrote each character
 */

/**
 * @typedef {object} DiffLine
 * @property {'keep'|'add'|'remove'} op
 * @property {string} text
 */

/**
 * @typedef {object} Hunk
 * @property {number} fromLine
 * @property {number} fromCount
 * @property {number} toLine
 * @property {number} toCount
 * @property {DiffLine[]} lines
 */

/**
 * @typedef {object} Diff
 * @property {number} from
 * @property {number} to
 * @property {number} added
 * @property {number} removed
 * @property {Hunk[]} hunks
 */

/**
 * A run of the text as the text view draws it. Today the whole text is one
 * segment; authorship colouring will split it into one segment per author
 * run, with the author's class and name.
 * @typedef {object} Segment
 * @property {string} text
 * @property {string} [className]
 * @property {string} [title]
 */

/** While the slider is dragged, a revision is fetched once it rests this long, in ms. */
const DRAG_DELAY = 120
/** Playback shows a revision at most this often, in ms (and never before the last one arrived). */
const FRAME_MS = 120
/** Playback takes at most this many frames: a long history is played in larger steps. */
const MAX_FRAMES = 300
/** The head is checked this often while the page is visible, in ms. */
const POLL_MS = 5000
/** Checkpoints per page of the list. */
const PAGE = 50
/** The revision cache keeps at most this many texts, and this many UTF-16 units in all. */
const CACHE_ENTRIES = 200
const CACHE_UNITS = 8 << 20

/**
 * RevisionCache keeps the revisions shown lately, least recently used
 * dropped first, within CACHE_ENTRIES and CACHE_UNITS.
 */
export class RevisionCache {
  constructor (entries = CACHE_ENTRIES, units = CACHE_UNITS) {
    /** @type {Map<number, Revision>} */
    this.map = new Map()
    this.entries = entries
    this.units = units
    this.size = 0
  }

  /** @param {number} rev */
  get (rev) {
    const r = this.map.get(rev)
    if (r) { // most recently used last
      this.map.delete(rev)
      this.map.set(rev, r)
    }
    return r
  }

  /** @param {Revision} r */
  put (r) {
    if (this.map.has(r.rev)) return
    this.map.set(r.rev, r)
    this.size += r.text.length
    for (const [rev, old] of this.map) {
      if (this.map.size <= this.entries && this.size <= this.units) break
      this.map.delete(rev)
      this.size -= old.text.length
    }
  }
}

/**
 * renderSegments draws the text at a revision into el. Authorship colours
 * come in here: a segment with a className is drawn as its own span.
 * @param {HTMLElement} el
 * @param {Segment[]} segments
 */
export function renderSegments (el, segments) {
  el.replaceChildren(...segments.map(s => {
    if (!s.className && !s.title) return document.createTextNode(s.text)
    const span = document.createElement('span')
    if (s.className) span.className = s.className
    if (s.title) span.title = s.title
    span.textContent = s.text
    return span
  }))
}

/**
 * playStep is how many revisions playback advances per frame, so that the
 * whole history plays in at most MAX_FRAMES frames.
 * @param {number} head
 */
export function playStep (head) {
  return Math.max(1, Math.ceil(head / MAX_FRAMES))
}

/**
 * commitLink is the link of an "exported as <commit>" name, or "" when the
 * name is not one or no commit URL is configured.
 * @param {string} name
 * @param {string} template the server's --export-commit-url, "{sha}" for the commit
 */
export function commitLink (name, template) {
  const m = /^exported as ([0-9a-f]{4,64})$/.exec(name)
  if (!m || !template) return ''
  return template.replaceAll('{sha}', m[1])
}

/**
 * sideBySide pairs a hunk's lines into rows of (old, new): kept lines on
 * both sides, a run of removed lines beside the run of added lines that
 * follows it.
 * @param {DiffLine[]} lines
 * @returns {Array<[DiffLine|null, DiffLine|null]>}
 */
export function sideBySide (lines) {
  /** @type {Array<[DiffLine|null, DiffLine|null]>} */
  const rows = []
  let i = 0
  while (i < lines.length) {
    if (lines[i].op === 'keep') {
      rows.push([lines[i], lines[i]])
      i++
      continue
    }
    const removed = []
    const added = []
    while (i < lines.length && lines[i].op === 'remove') removed.push(lines[i++])
    while (i < lines.length && lines[i].op === 'add') added.push(lines[i++])
    for (let k = 0; k < Math.max(removed.length, added.length); k++) rows.push([removed[k] || null, added[k] || null])
  }
  return rows
}

/** @param {HTMLElement} root the element with data-note-id */
export function startHistory (root) {
  const noteID = /** @type {string} */ (root.dataset.noteId)
  const base = `/api/notes/${encodeURIComponent(noteID)}`
  const commitURL = root.dataset.commitLinks || ''
  let head = Number(root.dataset.revision) || 0
  let title = root.dataset.title || ''

  const el = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
  const slider = /** @type {HTMLInputElement} */ (el('rev-slider'))
  const info = el('rev-info')
  const textView = el('rev-text')
  const playButton = /** @type {HTMLButtonElement} */ (el('play-button'))
  const playStatus = el('playback-status')
  const list = el('checkpoint-list')
  const olderButton = /** @type {HTMLButtonElement} */ (el('older-button'))
  const diffForm = /** @type {HTMLFormElement} */ (el('diff-form'))
  const diffFrom = /** @type {HTMLInputElement} */ (el('diff-from'))
  const diffTo = /** @type {HTMLInputElement} */ (el('diff-to'))
  const diffSummary = el('diff-summary')
  const diffView = el('diff-view')

  // --- the timeslider ---
  const cache = new RevisionCache()
  /** @type {AbortController|null} */
  let inFlight = null
  let shown = -1 // the revision whose text is shown
  let dragTimer = 0

  /**
   * fetchRevision reads the text at rev and the checkpoint ending there
   * (its time and who edited), both at once.
   * @param {number} rev
   * @param {AbortSignal} signal
   * @returns {Promise<Revision>}
   */
  async function fetchRevision (rev, signal) {
    const [textRes, at, authors] = await Promise.all([
      fetch(`${base}/text?rev=${rev}`, { signal, cache: 'no-store' }),
      fetchJSON(`${base}/revisions?before=${rev + 1}&limit=1`, signal),
      fetchJSON(`${base}/authors?rev=${rev}`, signal)
    ])
    if (!textRes.ok) throw await apiError(textRes)
    const text = await textRes.text()
    return { rev, text, at: at.checkpoints[0], authors: fromAPI(authors) }
  }

  /**
   * show makes rev the slider's revision and shows its text, from the cache
   * or the server; a newer call cancels an older one's request.
   * @param {number} rev
   * @returns {Promise<boolean>} whether rev is now shown
   */
  async function show (rev) {
    rev = Math.max(0, Math.min(head, Math.round(rev)))
    const from = shown
    slider.value = String(rev)
    describe(rev, null)
    clearTimeout(dragTimer)
    if (inFlight) inFlight.abort()
    inFlight = null
    let r = cache.get(rev)
    if (!r) {
      const ctl = new AbortController()
      inFlight = ctl
      textView.setAttribute('aria-busy', 'true')
      try {
        r = await fetchRevision(rev, ctl.signal)
      } catch (err) {
        if (ctl.signal.aborted) return false
        if (err instanceof FoldedError && (err.below !== rev && err.above !== rev)) {
          // Compacted history: the revision is inside a step that is kept
          // as one. Show the step's end in the direction of travel (so
          // stepping and playback cross the step in one move).
          if (inFlight === ctl) inFlight = null
          const to = foldedTarget(err, rev, from)
          showNotice(`Revisions ${err.below + 1} to ${err.above} are kept as one step (older history is compacted); showing revision ${to}.`, 'info')
          return show(to)
        }
        showNotice(`Could not load revision ${rev}: ${/** @type {Error} */ (err).message}`, 'error')
        textView.setAttribute('aria-busy', 'false')
        return false
      } finally {
        if (inFlight === ctl) inFlight = null
      }
      cache.put(r)
    }
    if (Number(slider.value) !== rev) return false
    drawText(r)
    textView.setAttribute('aria-busy', 'false')
    shown = rev
    root.dataset.shownRevision = String(rev)
    describe(rev, r.at)
    return true
  }

  // --- who wrote what: the editor's toggle and colours (authors.js) ---
  const authorsButton = /** @type {HTMLButtonElement} */ (el('authors-button'))
  const legend = el('rev-authors')
  let showAuthors = loadShowAuthors()
  /** @param {Revision} r */
  function drawText (r) {
    authorsButton.setAttribute('aria-pressed', String(showAuthors))
    legend.hidden = !showAuthors
    if (!showAuthors) {
      renderSegments(textView, [{ text: r.text }])
      return
    }
    const by = new Map(r.authors.authors.map(a => [a.key, a]))
    const colorOf = (/** @type {string} */ k) => by.get(k)?.color || '#bbbbbb'
    renderAuthored(textView, r.text, r.authors.spans, colorOf, k => by.get(k)?.name || '')
    renderLegend(legend, r.authors.authors, colorOf)
  }
  authorsButton.addEventListener('click', () => {
    showAuthors = !showAuthors
    saveShowAuthors(showAuthors)
    const r = cache.get(shown)
    if (r) drawText(r)
  })

  /**
   * describe says which revision the slider is at, when it was made and who
   * edited up to it (at, once known).
   * @param {number} rev
   * @param {Checkpoint|null} at
   */
  function describe (rev, at) {
    let s = `Revision ${rev} of ${head}`
    if (at) {
      const t = new Date(at.time)
      if (!Number.isNaN(t.getTime())) s += ` · ${t.toLocaleString()} (${relativeTime(t)})`
      if (rev === 0) s += ' · the note was created'
      else if (at.authors.length) s += ` · edited by ${at.authors.join(', ')}`
    }
    info.textContent = s
    slider.setAttribute('aria-valuetext', s)
  }

  slider.addEventListener('input', () => {
    stopPlaying()
    const rev = Number(slider.value)
    describe(rev, null)
    clearTimeout(dragTimer)
    const cached = cache.get(rev)
    if (cached) show(rev)
    else dragTimer = window.setTimeout(() => show(rev), DRAG_DELAY)
  })
  slider.addEventListener('change', () => { show(Number(slider.value)) })
  el('step-back').addEventListener('click', () => { stopPlaying(); show(Number(slider.value) - 1) })
  el('step-forward').addEventListener('click', () => { stopPlaying(); show(Number(slider.value) + 1) })

  // --- playback ---
  let playing = false
  let playTimer = 0

  function startPlaying () {
    if (head === 0) return
    playing = true
    playButton.textContent = 'Pause'
    playButton.setAttribute('aria-pressed', 'true')
    playStatus.textContent = 'Playing back the note.'
    let rev = Number(slider.value)
    if (rev >= head) rev = 0
    const frame = async () => {
      const started = Date.now()
      const ok = await show(rev)
      if (!playing) return
      if (!ok && shown !== rev) { stopPlaying(); return }
      rev = Math.max(rev, shown) // past a compacted step, when rev was inside it
      if (rev >= head) { stopPlaying(); return }
      rev = Math.min(head, rev + playStep(head))
      playTimer = window.setTimeout(frame, Math.max(0, FRAME_MS - (Date.now() - started)))
    }
    frame()
  }

  function stopPlaying () {
    if (!playing) return
    playing = false
    clearTimeout(playTimer)
    playButton.textContent = 'Play'
    playButton.setAttribute('aria-pressed', 'false')
    playStatus.textContent = `Paused at revision ${slider.value} of ${head}.`
  }

  playButton.addEventListener('click', () => { if (playing) stopPlaying(); else startPlaying() })

  // --- the checkpoint list ---
  let next = 0 // before= of the next older page; 0: none

  /**
   * @param {number} before 0: from the head
   * @returns {Promise<{checkpoints: Checkpoint[], next?: number}>}
   */
  const loadPage = before => api('GET', `${base}/revisions?limit=${PAGE}${before ? `&before=${before}` : ''}`)

  /** @param {Checkpoint} c */
  function checkpointItem (c) {
    const li = document.createElement('li')
    li.className = 'checkpoint'
    li.dataset.rev = String(c.rev)
    const top = document.createElement('div')
    top.className = 'checkpoint-head'
    const showButton = document.createElement('button')
    showButton.type = 'button'
    showButton.className = 'checkpoint-show'
    showButton.textContent = `Revision ${c.rev}`
    showButton.title = 'Show the text at this revision'
    showButton.onclick = () => { stopPlaying(); show(c.rev); slider.focus() }
    const time = document.createElement('time')
    time.dateTime = c.time
    top.append(showButton, ' ', time)
    li.appendChild(top)

    const meta = document.createElement('p')
    meta.className = 'checkpoint-meta'
    if (c.rev === 0) {
      meta.textContent = 'The note was created.'
    } else {
      const who = document.createElement('span')
      who.textContent = c.authors.length ? c.authors.join(', ') : 'Nobody named'
      const added = document.createElement('span')
      added.className = 'added'
      added.textContent = `+${c.added}`
      added.title = `${c.added} character${c.added === 1 ? '' : 's'} added`
      const removed = document.createElement('span')
      removed.className = 'removed'
      removed.textContent = `−${c.removed}`
      removed.title = `${c.removed} character${c.removed === 1 ? '' : 's'} removed`
      meta.append(who, ' · ', added, ' ', removed)
    }
    li.appendChild(meta)

    if (c.names && c.names.length) {
      const names = document.createElement('ul')
      names.className = 'checkpoint-names'
      for (const name of c.names) {
        const item = document.createElement('li')
        const link = commitLink(name, commitURL)
        if (link) {
          const sha = name.slice('exported as '.length)
          const a = document.createElement('a')
          a.href = link
          a.rel = 'noopener'
          a.textContent = sha
          item.append('exported as ', a)
        } else {
          item.textContent = name
        }
        names.appendChild(item)
      }
      li.appendChild(names)
    }

    if (c.rev > 0) {
      const changes = document.createElement('button')
      changes.type = 'button'
      changes.className = 'checkpoint-diff'
      changes.textContent = 'Changes'
      changes.setAttribute('aria-label', `Changes from revision ${c.since} to ${c.rev}`)
      changes.onclick = () => compare(c.since, c.rev)
      top.appendChild(changes)
    }
    localizeTimes(li)
    return li
  }

  /**
   * refreshList shows the newest page of checkpoints and returns them.
   * Pages loaded with "older" stay when the new page reaches down to them
   * (the head moved by less than a page).
   * @returns {Promise<Checkpoint[]>}
   */
  async function refreshList () {
    const before = /** @type {HTMLElement[]} */ ([...list.children])
    const got = { page: /** @type {{checkpoints: Checkpoint[], next?: number}|null} */ (null) }
    await fillList(list, async () => {
      got.page = await loadPage(0)
      return got.page.checkpoints
    }, 'the checkpoints', 'No checkpoints yet.', checkpointItem)
    const page = got.page
    if (!page) return []
    const items = page.checkpoints
    const lowest = items.length ? items[items.length - 1].rev : 0
    const kept = before.filter(li => li.dataset.rev !== undefined && Number(li.dataset.rev) < lowest)
    if (kept.length && page.next) list.append(...kept) // next stays: the older pages are all there
    else next = page.next || 0
    olderButton.hidden = !next
    root.dataset.checkpoints = String(list.querySelectorAll('li.checkpoint').length)
    return items
  }

  olderButton.addEventListener('click', async () => {
    olderButton.disabled = true
    try {
      const page = await loadPage(next)
      const items = page.checkpoints.map(checkpointItem)
      list.append(...items)
      next = page.next || 0
      olderButton.hidden = !next
      const first = items[0] && items[0].querySelector('button')
      if (first) first.focus()
      else if (!next) list.focus()
    } catch (err) {
      showNotice(`Could not load older checkpoints: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      olderButton.disabled = false
      root.dataset.checkpoints = String(list.querySelectorAll('li.checkpoint').length)
    }
  })

  // --- diffs ---
  let diffMode = /** @type {'inline'|'split'} */ ('inline')
  /** @type {Diff|null} */
  let lastDiff = null
  let diffAsked = 0

  /**
   * compare shows the diff from a to b and brings it into view.
   * @param {number} a
   * @param {number} b
   */
  function compare (a, b) {
    diffFrom.value = String(a)
    diffTo.value = String(b)
    runDiff().then(() => {
      el('diff-section').scrollIntoView({ block: 'start' })
      el('diff-heading').focus()
    })
  }

  async function runDiff () {
    const a = Number(diffFrom.value)
    const b = Number(diffTo.value)
    if (!diffForm.reportValidity()) return
    const n = ++diffAsked
    diffSummary.textContent = 'Comparing…'
    try {
      /** @type {Diff} */
      const d = await api('GET', `${base}/diff?from=${a}&to=${b}`)
      if (n !== diffAsked) return
      lastDiff = d
      drawDiff()
    } catch (err) {
      if (n !== diffAsked) return
      diffSummary.textContent = `Could not compare: ${/** @type {Error} */ (err).message}`
      diffView.replaceChildren()
    }
  }

  function drawDiff () {
    const d = lastDiff
    if (!d) return
    diffView.dataset.view = diffMode
    root.dataset.diff = `${d.from}-${d.to}`
    const lines = (/** @type {number} */ n) => `${n} line${n === 1 ? '' : 's'}`
    diffSummary.textContent = d.hunks.length === 0
      ? `Revisions ${d.from} and ${d.to} have the same text.`
      : `From revision ${d.from} to ${d.to}: ${lines(d.added)} added, ${lines(d.removed)} removed.`
    diffView.replaceChildren(...d.hunks.map(h => diffMode === 'inline' ? inlineHunk(h) : splitHunk(h)))
  }

  diffForm.addEventListener('submit', e => { e.preventDefault(); runDiff() })
  for (const b of /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('[data-diff-view]'))) {
    b.addEventListener('click', () => {
      diffMode = b.dataset.diffView === 'split' ? 'split' : 'inline'
      for (const o of document.querySelectorAll('[data-diff-view]')) o.setAttribute('aria-pressed', String(o === b))
      drawDiff()
    })
  }
  el('compare-head').addEventListener('click', () => compare(Number(slider.value), head))

  // --- naming and restoring ---
  const nameForm = /** @type {HTMLFormElement} */ (el('name-form'))
  const nameInput = /** @type {HTMLInputElement} */ (el('checkpoint-name'))
  nameForm.addEventListener('submit', async e => {
    e.preventDefault()
    const rev = Number(slider.value)
    const name = nameInput.value.trim()
    if (!name) return
    const button = /** @type {HTMLButtonElement} */ (el('name-button'))
    button.disabled = true
    try {
      await api('POST', `${base}/checkpoints`, { name, rev })
      nameInput.value = ''
      showNotice(`Revision ${rev} is named "${name}".`, 'success')
      await refreshList()
    } catch (err) {
      showNotice(`Could not name revision ${rev}: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      button.disabled = false
    }
  })

  const dialog = /** @type {HTMLDialogElement} */ (el('restore-dialog'))
  const restoreButton = /** @type {HTMLButtonElement} */ (el('restore-button'))
  let restoreRev = 0
  restoreButton.addEventListener('click', () => {
    stopPlaying()
    restoreRev = Number(slider.value)
    el('restore-rev').textContent = String(restoreRev)
    dialog.returnValue = ''
    dialog.showModal()
    el('restore-cancel').focus()
  })
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'restore') { restoreButton.focus(); return }
    restoreButton.disabled = true
    try {
      const res = await api('POST', `${base}/restore`, { rev: restoreRev })
      showNotice(`Revision ${restoreRev} is restored: it is the note's text again, as revision ${res.revision}.`, 'success')
      await headMoved(Number(res.revision))
      await show(Number(res.revision))
    } catch (err) {
      showNotice(`Could not restore revision ${restoreRev}: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      restoreButton.disabled = false
      restoreButton.focus()
    }
  })

  // --- following the head ---
  /**
   * headMoved takes a newer head: the slider reaches it (and moves along
   * when it was at the head), the list gains its checkpoints.
   * @param {number} rev
   */
  async function headMoved (rev) {
    if (rev <= head) return
    const atHead = Number(slider.value) === head && !playing
    head = rev
    slider.max = String(head)
    diffFrom.max = diffTo.max = String(head)
    root.dataset.head = String(head)
    if (atHead) show(head)
    else describe(Number(slider.value), cache.get(Number(slider.value))?.at ?? null)
    await refreshList()
  }

  let etag = ''
  async function poll () {
    if (document.visibilityState !== 'hidden') {
      try {
        /** @type {Record<string, string>} */
        const headers = { Accept: 'application/json' }
        if (etag) headers['If-None-Match'] = etag
        const res = await fetch(base, { headers, cache: 'no-store' })
        if (res.ok) {
          etag = res.headers.get('ETag') || ''
          const n = await res.json()
          if (typeof n.title === 'string' && n.title !== title) {
            title = n.title
            el('note-title').textContent = title || 'Untitled note'
            document.title = `History of ${title || 'Untitled note'} · Scribe`
          }
          await headMoved(Number(n.revision) || 0)
        }
      } catch { /* offline for now: the next poll tries again */ }
    }
    window.setTimeout(poll, POLL_MS)
  }

  // --- start ---
  root.dataset.head = String(head)
  diffFrom.value = String(Math.max(0, head - 1))
  show(head)
  refreshList().then(items => {
    // The diff starts at what changed last.
    if (items.length && items[0].rev === head && head > 0) diffFrom.value = String(items[0].since)
    root.dataset.ready = 'true'
  })
  window.setTimeout(poll, POLL_MS)
  setInterval(() => localizeTimes(list), 60 * 1000)
}

/**
 * fetchJSON GETs a JSON document, throwing the server's sentence on failure.
 * @param {string} path
 * @param {AbortSignal} signal
 */
async function fetchJSON (path, signal) {
  const res = await fetch(path, { signal, cache: 'no-store', headers: { Accept: 'application/json' } })
  if (!res.ok) throw await apiError(res)
  return res.json()
}

/**
 * foldedTarget is the revision to show instead of rev, which is inside the
 * compacted step err names, when the slider moved there from the revision
 * from: the step's end in the direction of travel, so that stepping and
 * playback cross the step in one move.
 * @param {FoldedError} err
 * @param {number} rev
 * @param {number} from
 */
export function foldedTarget (err, rev, from) {
  return rev > from ? err.above : err.below
}

/**
 * FoldedError is a 410 EGONE answer: the revision was folded into a
 * compacted step; below and above are the nearest readable revisions.
 */
export class FoldedError extends Error {
  /**
   * @param {string} message
   * @param {number} below
   * @param {number} above
   */
  constructor (message, below, above) {
    super(message)
    this.below = below
    this.above = above
  }
}

/**
 * apiError is the error of a failed API answer: a FoldedError for a
 * folded revision, else an Error with the server's sentence.
 * @param {Response} res
 * @returns {Promise<Error>}
 */
export async function apiError (res) {
  let d = null
  try { d = await res.json() } catch { /* not JSON */ }
  if (res.status === 410 && d && d.folded && typeof d.folded.below === 'number' && typeof d.folded.above === 'number') {
    return new FoldedError(String(d.message), d.folded.below, d.folded.above)
  }
  if (d && typeof d.message === 'string') return new Error(d.message)
  return new Error(`The server answered ${res.status} ${res.statusText}.`)
}

/**
 * lineCell is a table cell with a line number (empty for none).
 * @param {number|null} n
 */
function lineCell (n) {
  const td = document.createElement('td')
  td.className = 'diff-ln'
  td.textContent = n === null ? '' : String(n)
  return td
}

/**
 * textCell is a table cell with a diff line, marked as added or removed
 * in words for screen readers and by colour and sign for the eye.
 * @param {DiffLine|null} line
 */
function textCell (line) {
  const td = document.createElement('td')
  td.className = 'diff-text'
  if (!line) {
    td.classList.add('diff-empty')
    return td
  }
  td.classList.add(`diff-${line.op}`)
  if (line.op !== 'keep') {
    const sign = document.createElement('span')
    sign.className = 'diff-sign'
    sign.setAttribute('aria-hidden', 'true')
    sign.textContent = line.op === 'add' ? '+' : '−'
    const word = document.createElement('span')
    word.className = 'visually-hidden'
    word.textContent = line.op === 'add' ? 'added: ' : 'removed: '
    td.append(sign, word)
  }
  const code = document.createElement(line.op === 'add' ? 'ins' : line.op === 'remove' ? 'del' : 'span')
  code.textContent = line.text
  td.appendChild(code)
  return td
}

/**
 * hunkTable is the table of one hunk, headed by the lines it covers.
 * @param {Hunk} h
 * @param {string[]} columns the column headers (visually hidden)
 */
function hunkTable (h, columns) {
  const table = document.createElement('table')
  table.className = 'diff-hunk'
  const caption = document.createElement('caption')
  caption.textContent = `Lines ${h.fromLine}–${h.fromLine + Math.max(h.fromCount, 1) - 1} → ${h.toLine}–${h.toLine + Math.max(h.toCount, 1) - 1}`
  table.appendChild(caption)
  // Line number columns are narrow, text columns share the rest.
  const cols = document.createElement('colgroup')
  for (const c of columns) {
    const col = document.createElement('col')
    if (c.endsWith('line')) col.className = 'diff-ln-col'
    cols.appendChild(col)
  }
  table.appendChild(cols)
  const thead = document.createElement('thead')
  const tr = document.createElement('tr')
  for (const c of columns) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.className = 'visually-hidden'
    th.textContent = c
    tr.appendChild(th)
  }
  thead.appendChild(tr)
  table.appendChild(thead)
  return table
}

/**
 * inlineHunk draws a hunk as one column: old and new line numbers, then the line.
 * @param {Hunk} h
 */
function inlineHunk (h) {
  const table = hunkTable(h, ['Old line', 'New line', 'Text'])
  const body = document.createElement('tbody')
  let a = h.fromLine
  let b = h.toLine
  for (const line of h.lines) {
    const tr = document.createElement('tr')
    tr.append(lineCell(line.op === 'add' ? null : a), lineCell(line.op === 'remove' ? null : b), textCell(line))
    if (line.op !== 'add') a++
    if (line.op !== 'remove') b++
    body.appendChild(tr)
  }
  table.appendChild(body)
  return table
}

/**
 * splitHunk draws a hunk side by side: the old lines left, the new right.
 * @param {Hunk} h
 */
function splitHunk (h) {
  const table = hunkTable(h, ['Old line', 'Before', 'New line', 'After'])
  table.classList.add('diff-split')
  const body = document.createElement('tbody')
  let a = h.fromLine
  let b = h.toLine
  for (const [left, right] of sideBySide(h.lines)) {
    const tr = document.createElement('tr')
    tr.append(lineCell(left ? a++ : null), textCell(left && left.op === 'keep' ? { op: 'keep', text: left.text } : left),
      lineCell(right ? b++ : null), textCell(right))
    body.appendChild(tr)
  }
  table.appendChild(body)
  return table
}
