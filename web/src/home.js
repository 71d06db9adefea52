// The home page: create a note from a template where one may; the team's
// recent notes for members (rendered by the server), or the notes opened
// on this device for anyone else; a member's API tokens.

import { api, fillList, localizeTimes, relativeTime } from './ui.js'
import { openedNotes } from './device.js'

/** @param {HTMLElement} root */
export function startHome (root) {
  localizeTimes(root)
  setInterval(() => localizeTimes(root), 60 * 1000)
  setupCreate()
  const filters = setupNoteList()
  setupSearch(filters)
  renderDeviceNotes()
  setupTokens()
  root.dataset.ready = 'true'
}

/** The create form, when the page has it (members and local mode). */
function setupCreate () {
  const form = /** @type {HTMLFormElement|null} */ (document.getElementById('create-form'))
  if (!form) return
  const status = /** @type {HTMLElement} */ (document.getElementById('create-status'))
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('create-button'))
  form.addEventListener('submit', async e => {
    e.preventDefault()
    const data = new FormData(form)
    const title = String(data.get('title') || '').trim()
    const template = String(data.get('template') || 'blank')
    button.disabled = true
    status.textContent = 'Creating…'
    status.dataset.kind = 'info'
    try {
      const note = await api('POST', '/api/notes', { title, template })
      status.textContent = 'Created. Opening…'
      location.assign(note.url || `/n/${encodeURIComponent(note.id)}`)
    } catch (err) {
      status.textContent = `Could not create the note: ${/** @type {Error} */ (err).message}`
      status.dataset.kind = 'error'
      button.disabled = false
    }
  })
}

/**
 * @typedef {object} Note
 * @property {string} id
 * @property {string} title
 * @property {string} [template]
 * @property {string} [series]
 * @property {string} createdAt
 * @property {string} updatedAt
 * @property {boolean} [archived]
 * @property {{key: string, name: string}[]} [attendees]
 */

/** How many attendees a row of the list names before "and N more". */
const shownAttendees = 5

/**
 * filterParams returns the filter form's values as query parameters
 * (template, series, person, from, to; archived only when asked for).
 * @param {HTMLFormElement|null} form
 * @param {boolean} withArchived
 */
function filterParams (form, withArchived) {
  const p = new URLSearchParams()
  if (!form) return p
  for (const [k, v] of new FormData(form)) {
    const s = String(v).trim()
    if (s && (k !== 'archived' || withArchived)) p.set(k, s)
  }
  return p
}

/** How many notes a page of the list asks for. */
const listPage = 50

/**
 * The members' note list: newest edit first, filtered by the filter form,
 * "Older notes" pages on to the very first note; each note can be archived
 * (or unarchived in the archived view) and deleted after a confirmation.
 * Returns the filter form, which the search box uses too.
 */
function setupNoteList () {
  const section = document.getElementById('notes-section')
  if (!section) return null
  const form = /** @type {HTMLFormElement} */ (document.getElementById('list-filters'))
  const list = /** @type {HTMLElement} */ (document.getElementById('note-list'))
  const empty = /** @type {HTMLElement} */ (document.getElementById('note-list-empty'))
  const older = /** @type {HTMLButtonElement} */ (document.getElementById('older-notes'))
  const status = /** @type {HTMLElement} */ (document.getElementById('note-list-status'))
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('delete-dialog'))
  let next = section.dataset.next || ''
  let asked = 0 // the latest load; older answers are dropped

  /** @param {string} msg @param {string} kind */
  const say = (msg, kind) => { status.textContent = msg; status.dataset.kind = kind }

  /** @param {boolean} more: append the next page instead of starting over */
  const load = async more => {
    const n = ++asked
    const p = filterParams(form, true)
    p.set('limit', String(listPage))
    if (more) p.set('after', next)
    older.disabled = true
    try {
      const res = await api('GET', `/api/notes?${p}`)
      if (n !== asked) return
      /** @type {Note[]} */
      const notes = Array.isArray(res.notes) ? res.notes : []
      if (more) list.append(...notes.map(noteItem))
      else list.replaceChildren(...notes.map(noteItem))
      next = typeof res.next === 'string' ? res.next : ''
      older.hidden = next === ''
      empty.hidden = list.children.length > 0
      empty.textContent = p.toString() === `limit=${listPage}` ? 'No notes yet. Create one above and share its link with the meeting.' : 'No notes match these filters.'
      if (status.dataset.kind === 'error') say('', 'info')
    } catch (err) {
      if (n === asked) say(`Could not list the notes: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      older.disabled = false
    }
  }

  /** @param {Note} note */
  const noteItem = note => {
    const li = document.createElement('li')
    li.dataset.noteId = note.id
    const title = note.title || 'Untitled note'
    const a = document.createElement('a')
    a.href = `/n/${encodeURIComponent(note.id)}`
    a.textContent = title
    a.className = 'note-link'
    const meta = document.createElement('span')
    meta.className = 'note-meta'
    const edited = document.createElement('time')
    edited.dateTime = new Date(note.updatedAt).toISOString()
    edited.title = new Date(note.updatedAt).toLocaleString()
    edited.textContent = relativeTime(new Date(note.updatedAt))
    meta.append('edited ', edited, ` · meeting of ${new Date(note.createdAt).toLocaleDateString()}`)
    if (note.template) meta.append(` · ${note.template}`)
    if (note.series) {
      const series = document.createElement('a')
      series.href = `/?${new URLSearchParams({ series: note.series })}`
      series.className = 'series-link'
      series.textContent = note.series
      series.title = 'Every meeting of this series'
      series.addEventListener('click', e => {
        e.preventDefault()
        showFilter('series', note.series || '')
      })
      meta.append(' · ', series)
    }
    const people = attendeesOf(note)
    const actions = document.createElement('span')
    actions.className = 'note-actions'
    const archive = document.createElement('button')
    archive.type = 'button'
    archive.className = 'archive-button'
    archive.textContent = note.archived ? 'Unarchive' : 'Archive'
    archive.setAttribute('aria-label', `${archive.textContent} “${title}”`)
    archive.addEventListener('click', async () => {
      archive.disabled = true
      try {
        await api('PATCH', `/api/notes/${encodeURIComponent(note.id)}`, { archived: !note.archived })
        li.remove()
        empty.hidden = list.children.length > 0
        say(note.archived ? `“${title}” is back in the list.` : `“${title}” is archived; tick “Archived notes” to see it.`, 'info')
      } catch (err) {
        archive.disabled = false
        say(`Could not change “${title}”: ${/** @type {Error} */ (err).message}`, 'error')
      }
    })
    const del = document.createElement('button')
    del.type = 'button'
    del.className = 'danger delete-button'
    del.textContent = 'Delete'
    del.setAttribute('aria-label', `Delete “${title}”`)
    del.setAttribute('aria-haspopup', 'dialog')
    del.addEventListener('click', () => confirmDelete(note, title, li, del))
    actions.append(archive, del)
    li.append(a, ' ', meta)
    if (people) li.append(people)
    li.append(actions)
    return li
  }

  /**
   * confirmDelete asks in the dialog, then deletes.
   * @param {Note} note @param {string} title @param {HTMLElement} li @param {HTMLButtonElement} button
   */
  const confirmDelete = (note, title, li, button) => {
    /** @type {HTMLElement} */ (document.getElementById('delete-dialog-note')).textContent = title
    dialog.returnValue = 'cancel'
    dialog.addEventListener('close', async () => {
      if (dialog.returnValue !== 'delete') {
        button.focus()
        return
      }
      try {
        await api('DELETE', `/api/notes/${encodeURIComponent(note.id)}`)
        li.remove()
        empty.hidden = list.children.length > 0
        say(`“${title}” was deleted.`, 'info')
        if (older.hidden) form.querySelector('select')?.focus()
        else older.focus()
      } catch (err) {
        say(`Could not delete “${title}”: ${/** @type {Error} */ (err).message}`, 'error')
        button.focus()
      }
    }, { once: true })
    dialog.showModal()
  }

  let timer = 0
  form.addEventListener('input', () => {
    clearTimeout(timer)
    timer = window.setTimeout(() => load(false), searchDelay)
  })
  form.addEventListener('submit', e => { e.preventDefault(); load(false) })
  older.addEventListener('click', () => load(true))

  /**
   * showFilter lists the notes of one series or one person together (a
   * series or attendee link in the list or in a note: /?series=...,
   * /?person=...), keeping the address shareable.
   * @param {string} field @param {string} value
   */
  const showFilter = (field, value) => {
    const input = /** @type {HTMLInputElement|null} */ (form.elements.namedItem(field))
    if (!input) return
    input.value = value
    history.replaceState(null, '', `/?${new URLSearchParams({ [field]: value })}`)
    load(false)
    input.focus()
  }

  /**
   * attendeesOf returns the row's line of attendees ("with Ada, Bob and
   * 3 more"), each name a link that filters the list by that person; null
   * when nobody edited the note yet.
   * @param {Note} note
   */
  const attendeesOf = note => {
    const all = Array.isArray(note.attendees) ? note.attendees : []
    if (all.length === 0) return null
    const line = document.createElement('span')
    line.className = 'note-people'
    line.append('with ')
    all.slice(0, shownAttendees).forEach((p, i) => {
      if (i > 0) line.append(', ')
      const link = document.createElement('a')
      link.href = `/?${new URLSearchParams({ person: p.name })}`
      link.className = 'person-link'
      link.textContent = p.name
      link.title = `Notes ${p.name} edited`
      link.addEventListener('click', e => {
        e.preventDefault()
        showFilter('person', p.name)
      })
      line.append(link)
    })
    if (all.length > shownAttendees) {
      const rest = all.slice(shownAttendees).map(p => p.name).join(', ')
      const more = document.createElement('span')
      more.textContent = ` and ${all.length - shownAttendees} more`
      more.title = rest
      line.append(more)
    }
    return line
  }
  // The filters may come with the address (/?series=Platform+weekly).
  for (const [k, v] of new URLSearchParams(location.search)) {
    const field = form.elements.namedItem(k)
    if (field instanceof HTMLInputElement && field.type !== 'checkbox') field.value = v
    else if (field instanceof HTMLSelectElement) field.value = v
    else if (field instanceof HTMLInputElement) field.checked = v !== '' && v !== '0'
  }
  load(false) // the server's first page, with the actions
  return form
}

/**
 * @typedef {object} Hit
 * @property {string} id
 * @property {string} title
 * @property {string} date
 * @property {string} [template]
 * @property {string[]} [snippets]
 */

/** How long typing must pause before a search is sent, in ms. */
const searchDelay = 150

/**
 * The search box (members and local mode): results as the person types,
 * debounced, the newest answer only, narrowed by the list's filters
 * (template, series, dates); ↓ and ↑ move between the input and the
 * results, Escape clears.
 * @param {HTMLFormElement|null} filters
 */
function setupSearch (filters) {
  const input = /** @type {HTMLInputElement|null} */ (document.getElementById('search-input'))
  if (!input) return
  const list = /** @type {HTMLElement} */ (document.getElementById('search-results'))
  const status = /** @type {HTMLElement} */ (document.getElementById('search-status'))
  let timer = 0
  let asked = 0 // the number of the latest search sent; older answers are dropped
  const run = async () => {
    const q = input.value.trim()
    const n = ++asked
    if (!q) {
      list.replaceChildren()
      status.textContent = ''
      return
    }
    try {
      const p = filterParams(filters, false)
      p.set('q', q)
      p.set('limit', '20')
      const res = await api('GET', `/api/search?${p}`)
      if (n !== asked) return
      /** @type {Hit[]} */
      const hits = Array.isArray(res.hits) ? res.hits : []
      list.replaceChildren(...hits.map(renderHit))
      const total = Number(res.total) || 0
      status.textContent = total === 0 ? 'No notes match.' : total > hits.length ? `${total} notes match; the best ${hits.length} are shown.` : `${total} ${total === 1 ? 'note matches' : 'notes match'}.`
      status.dataset.kind = 'info'
    } catch (err) {
      if (n !== asked) return
      status.textContent = `Search failed: ${/** @type {Error} */ (err).message}`
      status.dataset.kind = 'error'
    }
  }
  const later = () => {
    clearTimeout(timer)
    timer = window.setTimeout(run, searchDelay)
  }
  input.addEventListener('input', later)
  filters?.addEventListener('input', later)
  const links = () => /** @type {HTMLAnchorElement[]} */ ([...list.querySelectorAll('a')])
  input.addEventListener('keydown', e => {
    if (e.key === 'ArrowDown' && links().length > 0) {
      e.preventDefault()
      links()[0].focus()
    } else if (e.key === 'Escape' && input.value) {
      input.value = ''
      run()
    }
  })
  list.addEventListener('keydown', e => {
    const all = links()
    const i = all.indexOf(/** @type {HTMLAnchorElement} */ (document.activeElement))
    if (i < 0) return
    if (e.key === 'ArrowDown' && i + 1 < all.length) {
      e.preventDefault()
      all[i + 1].focus()
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      if (i > 0) all[i - 1].focus()
      else input.focus()
    } else if (e.key === 'Escape') {
      input.focus()
    }
  })
}

/** @param {Hit} h */
function renderHit (h) {
  const li = document.createElement('li')
  const a = document.createElement('a')
  a.href = `/n/${encodeURIComponent(h.id)}`
  a.textContent = h.title || 'Untitled note'
  const meta = document.createElement('span')
  meta.className = 'note-meta'
  const d = new Date(h.date)
  if (!isNaN(d.getTime())) {
    const t = document.createElement('time')
    t.dateTime = d.toISOString()
    t.textContent = d.toLocaleDateString()
    meta.append(t)
  }
  if (h.template) meta.append(` · ${h.template}`)
  li.append(a, ' ', meta)
  for (const s of (h.snippets || []).slice(0, 2)) {
    const p = document.createElement('p')
    p.className = 'snippet'
    p.append(snippetNodes(s))
    li.append(p)
  }
  return li
}

/**
 * snippetNodes turns a snippet's HTML (escaped text with <mark> around the
 * matches) into nodes, keeping only text and <mark>: nothing the server
 * sends can become markup of any other kind.
 * @param {string} html
 */
export function snippetNodes (html) {
  const tpl = document.createElement('template')
  tpl.innerHTML = html
  const out = document.createDocumentFragment()
  for (const n of tpl.content.childNodes) {
    if (n.nodeName === 'MARK') {
      const m = document.createElement('mark')
      m.textContent = n.textContent
      out.append(m)
    } else {
      out.append(n.textContent || '')
    }
  }
  return out
}

/** "Notes you opened on this device", when the page has that list (not for members). */
function renderDeviceNotes () {
  const list = document.getElementById('device-notes')
  if (!list) return
  const notes = openedNotes()
  const empty = document.getElementById('device-notes-empty')
  if (empty) empty.hidden = notes.length > 0
  list.replaceChildren(...notes.map(n => {
    const li = document.createElement('li')
    const a = document.createElement('a')
    a.href = n.path
    a.textContent = n.title || 'Untitled note'
    const meta = document.createElement('span')
    meta.className = 'note-meta'
    const kind = n.path.startsWith('/s/') ? 'read-only, ' : ''
    const t = document.createElement('time')
    t.dateTime = new Date(n.at).toISOString()
    t.title = new Date(n.at).toLocaleString()
    t.textContent = relativeTime(new Date(n.at))
    meta.append(`${kind}opened `, t)
    li.append(a, ' ', meta)
    return li
  }))
}

/**
 * @typedef {object} Token
 * @property {string} id
 * @property {string} [label]
 * @property {string} createdAt
 * @property {string} [lastUsed]
 */

/** A member's API tokens: create (the secret shown once), list, revoke. */
function setupTokens () {
  const form = /** @type {HTMLFormElement|null} */ (document.getElementById('token-form'))
  if (!form) return
  const list = /** @type {HTMLElement} */ (document.getElementById('token-list'))
  const secretBox = /** @type {HTMLElement} */ (document.getElementById('token-secret'))
  const labelInput = /** @type {HTMLInputElement} */ (document.getElementById('token-label'))
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('token-create'))

  const load = () => fillList(list,
    async () => /** @type {Token[]} */ ((await api('GET', '/api/tokens')).tokens || []),
    'your tokens', 'You have no API tokens.', tokenItem)

  /** @param {Token} t */
  const tokenItem = t => {
    const li = document.createElement('li')
    li.dataset.tokenId = t.id
    const name = document.createElement('span')
    name.className = 'token-label'
    name.textContent = t.label || 'Unlabelled token'
    const meta = document.createElement('span')
    meta.className = 'link-meta'
    const used = t.lastUsed ? `last used ${relativeTime(new Date(t.lastUsed))}` : 'never used'
    meta.textContent = `made ${relativeTime(new Date(t.createdAt))}, ${used}`
    const revoke = document.createElement('button')
    revoke.type = 'button'
    revoke.className = 'danger revoke-button'
    revoke.textContent = 'Revoke'
    revoke.setAttribute('aria-label', `Revoke the token ${t.label || t.id}`)
    revoke.addEventListener('click', async () => {
      revoke.disabled = true
      try {
        await api('DELETE', `/api/tokens/${encodeURIComponent(t.id)}`)
        await load()
      } catch (err) {
        revoke.disabled = false
        meta.textContent = `Could not revoke it: ${/** @type {Error} */ (err).message}`
      }
    })
    li.append(name, meta, revoke)
    return li
  }

  form.addEventListener('submit', async e => {
    e.preventDefault()
    button.disabled = true
    try {
      const t = await api('POST', '/api/tokens', { label: labelInput.value.trim() })
      labelInput.value = ''
      showSecret(secretBox, String(t.secret))
      await load()
    } catch (err) {
      secretBox.hidden = false
      secretBox.textContent = `Could not create a token: ${/** @type {Error} */ (err).message}`
    } finally {
      button.disabled = false
    }
  })
  load()
}

/**
 * showSecret shows a new token's secret, once, with a copy button.
 * @param {HTMLElement} box
 * @param {string} secret
 */
function showSecret (box, secret) {
  const text = document.createElement('span')
  text.textContent = 'Your new token (shown only now; copy it somewhere safe): '
  const input = document.createElement('input')
  input.type = 'text'
  input.readOnly = true
  input.value = secret
  input.id = 'token-secret-value'
  input.className = 'share-url'
  input.setAttribute('aria-label', 'New API token')
  input.addEventListener('focus', () => input.select())
  const copy = document.createElement('button')
  copy.type = 'button'
  copy.id = 'token-copy'
  copy.textContent = 'Copy'
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret)
      copy.textContent = 'Copied'
    } catch {
      input.focus()
      copy.textContent = 'Select and copy'
    }
  })
  box.replaceChildren(text, input, copy)
  box.hidden = false
}
