// The editor page (/n/{id}): CodeMirror 6 wired to the OT client, the
// people here, the connection indicator and the toolbar.

import { EditorState, Compartment, Transaction } from '@codemirror/state'
import { EditorView, keymap, drawSelection, highlightActiveLine, placeholder } from '@codemirror/view'
import { history, defaultKeymap, historyKeymap, indentWithTab } from '@codemirror/commands'
import { markdown } from '@codemirror/lang-markdown'
import { syntaxHighlighting, HighlightStyle } from '@codemirror/language'
import { searchKeymap, highlightSelectionMatches, closeSearchPanel } from '@codemirror/search'
import { tags } from '@lezer/highlight'
import { CollabClient, newSessionID } from './collab.js'
import { Connection, wsURL } from './connection.js'
import { changesToOp, opToChanges, remoteChange, peersField, setPeers } from './cm.js'
import { assignColors, labelText, personKey } from './colors.js'
import { api, fillList, showNotice, renderStatus, changeCount, loadName, saveName, viewersText } from './ui.js'
import { compose } from './ot.js'
import { SHORTCUTS, firstEmptyField } from './format.js'
import { setupPreview } from './preview.js'
import { rememberOpened } from './device.js'
import { Keeper, pageStorage } from './persist.js'
import { authorsField, authorOf, setupAuthors } from './authors.js'
import { renderExport } from './exported.js'
import { markedLine, markLine, lineFromHash } from './linemark.js'

const highlight = HighlightStyle.define([
  { tag: tags.heading1, fontWeight: '700', fontSize: '1.3em' },
  { tag: tags.heading2, fontWeight: '700', fontSize: '1.15em' },
  { tag: [tags.heading3, tags.heading4, tags.heading5, tags.heading6], fontWeight: '700' },
  { tag: tags.strong, fontWeight: '700' },
  { tag: tags.emphasis, fontStyle: 'italic' },
  { tag: tags.strikethrough, textDecoration: 'line-through' },
  { tag: tags.link, color: 'var(--link)' },
  { tag: tags.url, color: 'var(--link)' },
  { tag: [tags.monospace], fontFamily: 'var(--mono)', color: 'var(--code)' },
  { tag: [tags.processingInstruction, tags.meta, tags.contentSeparator], color: 'var(--muted)' },
  { tag: tags.quote, color: 'var(--muted)', fontStyle: 'italic' }
])

/** Unconfirmed edits show as "Saving…" only once they have waited this long. */
const SAVING_AFTER_MS = 1000

/** @param {HTMLElement} root the element with data-note-id */
export function startEditor (root) {
  const noteID = /** @type {string} */ (root.dataset.noteId) // the page always sets it
  // A member's name comes from sign-in and stays; anyone else's is the one
  // remembered in this browser, else (local mode) the local person's, else
  // they are asked (askName): never a made-up one.
  const fixedName = root.dataset.fixedName || ''
  let name = fixedName || loadName() || root.dataset.suggestedName || ''
  const nameInput = /** @type {HTMLInputElement} */ (document.getElementById('display-name'))
  nameInput.value = name
  // For the home page's "notes you opened on this device".
  let rememberedTitle = root.dataset.title || ''
  rememberOpened(`/n/${noteID}`, rememberedTitle)
  /** myKey is this person's key among the people here (colors.js personKey). */
  const myKey = () => personKey(name || 'Anonymous', client.person)

  const editable = new Compartment()
  /** @type {EditorView} */
  let view
  let cursorsQueued = false

  // Unconfirmed edits are kept on this device across the page's close (persist.js).
  const keeper = new Keeper({
    note: noteID,
    storage: pageStorage(),
    locks: navigator.locks || null,
    onChange: () => scheduleRender()
  })

  const client = new CollabClient({
    session: newSessionID(),
    name,
    callbacks: {
      send: () => {}, // set by Connection
      reset: text => {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          annotations: [remoteChange.of(true), authorOf.of(null), Transaction.addToHistory.of(false)]
        })
      },
      remote: (op, from) => {
        // Whose it is, for "Show authors": the peer's, when known here.
        const peer = from === undefined ? undefined : client.peers.get(from)
        view.dispatch({
          changes: opToChanges(op),
          annotations: [remoteChange.of(true), authorOf.of(peer ? personKey(peer.name || 'Anonymous', peer.person) : null), Transaction.addToHistory.of(false)]
        })
        if (view.state.doc.length !== client.doc.length) {
          // Cannot happen if both sides agree; if it does, trust the client's text.
          view.dispatch({
            changes: { from: 0, to: view.state.doc.length, insert: client.doc },
            annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)]
          })
        }
      },
      changed: () => {
        scheduleRender()
        keeper.changed()
      },
      sending: () => keeper.save(),
      error: (code, message) => {
        if (code === 'ERATELIMIT') return // the client slows down by itself
        if (code === 'EUNAVAILABLE' || code === 'EINTERNAL') {
          // The server could not save (its store is down): nothing was
          // refused, the edits are kept and resent; its message says so.
          showNotice(message || "Can't save right now; your edits are kept and will be sent.", 'warning')
          return
        }
        showNotice(`The server refused an edit (${code}): ${message}`, 'error')
      }
    }
  })

  view = new EditorView({
    parent: /** @type {HTMLElement} */ (document.getElementById('editor')),
    state: EditorState.create({
      doc: '',
      extensions: [
        EditorState.lineSeparator.of('\n'), // keep "\r" as a character, so offsets match the server's
        history(),
        drawSelection(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        keymap.of([
          ...SHORTCUTS.map(s => ({ key: s.key, run: s.run, preventDefault: true })),
          { key: 'Mod-/', run: () => { openShortcuts(); return true } },
          ...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab,
          // After the search panel's own Escape (which closes it).
          { key: 'Escape', run: v => closeSearchPanel(v) || focusNextControl(v.dom) }
        ]),
        markdown(),
        syntaxHighlighting(highlight),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ tabindex: '0', 'aria-label': 'Note text', 'aria-describedby': 'editor-help', spellcheck: 'true', autocapitalize: 'sentences' }),
        placeholder('Start typing markdown…'),
        peersField,
        authorsField,
        markedLine,
        editable.of([EditorState.readOnly.of(true), EditorView.editable.of(false)]),
        // One user action is one edit: a paste (or any edit) that would make
        // the note larger than the server's limit is refused whole, here,
        // before any of it is applied.
        EditorState.transactionFilter.of(tr => {
          if (!tr.docChanged || tr.annotation(remoteChange) || !client.synced) return tr
          const why = client.refusal(changesToOp(tr.changes, tr.startState.doc.length))
          if (!why) return tr
          showNotice(why, 'error')
          return []
        }),
        EditorView.updateListener.of(update => {
          if (update.docChanged) previewChanged()
          for (const tr of update.transactions) {
            if (tr.docChanged && !tr.annotation(remoteChange)) {
              try {
                client.localChange(changesToOp(tr.changes, tr.startState.doc.length), selectionOf(tr.state))
              } catch (err) {
                // The editor and the client disagree about the text (a bug):
                // show the client's text, which is what the server will get.
                console.error('scribe: local change not accepted:', err)
                queueMicrotask(() => view.dispatch({
                  changes: { from: 0, to: view.state.doc.length, insert: client.doc },
                  annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)]
                }))
              }
            }
          }
          if (update.selectionSet && !update.transactions.every(tr => tr.annotation(remoteChange))) {
            client.localSelection(selectionOf(update.state))
          }
        })
      ]
    })
  })

  const previewChanged = setupPreview(view)

  let renderQueued = false
  function scheduleRender () {
    if (renderQueued) return
    renderQueued = true
    queueMicrotask(() => {
      renderQueued = false
      render()
    })
  }

  const authors = setupAuthors({
    view,
    noteID,
    client,
    fetchAuthors: rev => api('GET', `/api/notes/${encodeURIComponent(noteID)}/authors?rev=${rev}`),
    changed: () => scheduleRender(),
    nameOf: key => key === myKey() ? (name || 'Anonymous') : client.peerList().map(p => ({ n: p.name || 'Anonymous', k: personKey(p.name || 'Anonymous', p.person) })).find(p => p.k === key)?.n
  })

  let wasSynced = false
  let goneShown = false
  // The calm status: edits count as waiting from when they were made or
  // from the last ack, whichever is later; "Saving…" only after
  // SAVING_AFTER_MS of that.
  let lastPending = 0
  let waitingSince = 0
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let savingTimer
  function statusInfo () {
    const pending = client.pending
    const now = performance.now()
    if (pending === 0) {
      waitingSince = 0
    } else if (lastPending === 0 || pending < lastPending) {
      waitingSince = now
    }
    lastPending = pending
    clearTimeout(savingTimer)
    const saving = pending > 0 && now - waitingSince >= SAVING_AFTER_MS
    if (pending > 0 && !saving) savingTimer = setTimeout(scheduleRender, SAVING_AFTER_MS - (now - waitingSince) + 5)
    return { pending, changes: unsentChanges(), saving }
  }
  /** How many places the unconfirmed edits change (not keystrokes). */
  function unsentChanges () {
    if (client.inflight && client.buffer) return changeCount(compose(client.inflight.op, client.buffer.op))
    return changeCount((client.inflight || client.buffer || { op: null }).op)
  }
  const exportStatus = /** @type {HTMLElement} */ (document.getElementById('export-status'))
  const commitURL = root.dataset.commitTemplate || ''
  function render () {
    renderStatus(client.status, { ...statusInfo(), kept: keeper.ok })
    renderExport(exportStatus, client.lastExport, client.changedSinceExport(), commitURL)
    if (client.synced && !wasSynced) {
      wasSynced = true
      view.dispatch({ effects: editable.reconfigure([]) })
      // A link to a line (#L12, from the action items page) opens there;
      // a note fresh from a template with the caret in its first empty field.
      if (!markLine(view, lineFromHash(location.hash))) {
        const at = firstEmptyField(view.state.doc.toString())
        if (at >= 0) view.dispatch({ selection: { anchor: at }, scrollIntoView: true })
      }
      // Editable only now: focus again, unless the person has gone elsewhere meanwhile.
      if (document.activeElement === document.body || view.dom.contains(document.activeElement)) view.focus()
      root.dataset.ready = 'true'
    }
    if (client.title) {
      const h = document.getElementById('note-title')
      if (h && h.textContent !== client.title) {
        h.textContent = client.title
        document.title = `${client.title} · Scribe`
      }
      if (client.title !== rememberedTitle) {
        rememberedTitle = client.title
        rememberOpened(`/n/${noteID}`, rememberedTitle)
      }
    }
    if (client.status === 'gone' && !goneShown) {
      goneShown = true
      view.dispatch({ effects: editable.reconfigure([EditorState.readOnly.of(true)]) })
      showNotice(client.goneReason || 'This note is no longer available.', 'error')
    }
    // Colours are chosen here, the same way in every browser of the note,
    // from people's names (colors.js), not taken from the server.
    const peers = client.peerList().map(p => ({ ...p, name: p.name || 'Anonymous', key: personKey(p.name || 'Anonymous', p.person) }))
    // With authors shown, everyone whose text is here gets a colour too,
    // from the same palette: a person's text and cursor share it.
    const colors = assignColors([myKey(), ...peers.map(p => p.key), ...authors.keys()])
    const colorOf = (/** @type {string} */ key) => colors.get(key) || '#bbbbbb'
    renderPresence(peers, colorOf)
    authors.render(colorOf, myKey())
    if (!cursorsQueued) {
      cursorsQueued = true
      // Not inside an update listener: dispatch on the next microtask.
      queueMicrotask(() => {
        cursorsQueued = false
        const now = client.peerList().filter(p => !p.readonly).map(p => {
          const n = p.name || 'Anonymous'
          const color = colorOf(personKey(n, p.person))
          return { ...p, name: n, color, text: labelText(color) }
        })
        view.dispatch({ effects: setPeers.of(now) })
      })
    }
  }

  /**
   * renderPresence lists the people here: one entry per person (their tabs
   * counted), you first.
   * @param {{client: string, name: string, key: string, readonly: boolean}[]} peers
   * @param {(key: string) => string} colorOf
   */
  function renderPresence (peers, colorOf) {
    const list = /** @type {HTMLElement} */ (document.getElementById('presence-list'))
    const me = myKey()
    /** @type {Map<string, {name: string, you: boolean, tabs: number, viewing: number, clients: string[]}>} */
    const people = new Map([[me, { name: name || 'Anonymous', you: true, tabs: 1, viewing: 0, clients: [client.client] }]])
    for (const p of peers) {
      let e = people.get(p.key)
      if (!e) {
        e = { name: p.name, you: false, tabs: 0, viewing: 0, clients: [] }
        people.set(p.key, e)
      }
      e.tabs++
      if (p.readonly) e.viewing++
      e.clients.push(p.client)
    }
    const items = []
    for (const [key, e] of people) {
      const li = document.createElement('li')
      li.className = 'presence-item'
      li.dataset.client = e.clients[0]
      li.dataset.clients = e.clients.join(' ')
      li.dataset.color = colorOf(key)
      const dot = document.createElement('span')
      dot.className = 'presence-dot'
      dot.style.backgroundColor = colorOf(key)
      dot.setAttribute('aria-hidden', 'true')
      const label = document.createElement('span')
      label.className = 'presence-name'
      label.textContent = e.you ? `${e.name} (you)` : e.name
      li.title = e.name
      li.append(dot, label)
      if (e.tabs > 1) {
        const tabs = document.createElement('span')
        tabs.className = 'presence-tabs'
        tabs.textContent = `${e.tabs} tabs`
        li.appendChild(tabs)
      }
      if (e.viewing === e.tabs) {
        const ro = document.createElement('span')
        ro.className = 'presence-ro'
        ro.textContent = 'viewing'
        li.appendChild(ro)
      }
      // Pointing at a person shows their cursor labels.
      li.addEventListener('mouseenter', () => showLabels(e.clients, true))
      li.addEventListener('mouseleave', () => showLabels(e.clients, false))
      items.push(li)
    }
    // Read-only viewers are a count, not a list: an all-hands may have
    // thousands (docs/protocol.md, the viewers message).
    const viewers = client.viewers
    if (viewers > 0) {
      const li = document.createElement('li')
      li.className = 'presence-item presence-viewers'
      li.dataset.viewers = String(viewers)
      const label = document.createElement('span')
      label.className = 'presence-name'
      label.textContent = viewersText(viewers)
      li.appendChild(label)
      items.push(li)
    }
    list.replaceChildren(...items)
    let count = `${people.size} ${people.size === 1 ? 'person' : 'people'} here`
    if (viewers > 0) count += `, ${viewersText(viewers)}`
    const heading = /** @type {HTMLElement} */ (document.getElementById('presence-heading'))
    heading.textContent = `Here now (${people.size})`
    const badge = document.getElementById('people-count')
    if (badge && badge.textContent !== count) badge.textContent = count
  }

  /**
   * @param {string[]} clients
   * @param {boolean} on
   */
  function showLabels (clients, on) {
    for (const c of clients) {
      for (const el of view.dom.querySelectorAll(`.cm-remote-caret[data-client="${CSS.escape(c)}"]`)) el.classList.toggle('show', on)
    }
  }

  // --- name ---
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let nameTimer
  /** @param {string} [typed] */
  const commitName = (typed = nameInput.value) => {
    const n = typed.trim().slice(0, 64)
    if (fixedName || !n || n === name) return
    name = n
    nameInput.value = n
    saveName(n)
    client.setName(n)
    scheduleRender()
  }
  nameInput.addEventListener('input', () => {
    clearTimeout(nameTimer)
    nameTimer = setTimeout(commitName, 600)
  })
  nameInput.addEventListener('change', () => commitName())
  nameInput.addEventListener('keydown', e => {
    if (e.key === 'Enter') {
      commitName()
      view.focus()
    }
  })

  // --- toolbar ---
  setupToolbar(noteID)
  setupShortcuts()
  // Phones: the toolbar folds into one menu (app.css shows the button).
  const menuButton = /** @type {HTMLButtonElement} */ (document.getElementById('menu-button'))
  const toolbar = /** @type {HTMLElement} */ (document.getElementById('toolbar'))
  const setMenu = (/** @type {boolean} */ open) => {
    const bar = /** @type {HTMLElement} */ (document.querySelector('.editor-page > .topbar'))
    toolbar.style.setProperty('--topbar-h', `${bar.offsetHeight}px`)
    toolbar.classList.toggle('open', open)
    menuButton.setAttribute('aria-expanded', String(open))
  }
  menuButton.addEventListener('click', () => setMenu(!toolbar.classList.contains('open')))
  toolbar.addEventListener('click', e => {
    if (/** @type {HTMLElement} */ (e.target).closest('button:not(.menu > summary), .menu-items a')) setMenu(false)
  })
  toolbar.addEventListener('keydown', e => {
    if (e.key === 'Escape' && toolbar.classList.contains('open')) {
      setMenu(false)
      menuButton.focus()
    }
  })
  // A menu closes once something in it is chosen, or on a click elsewhere.
  for (const menu of /** @type {NodeListOf<HTMLDetailsElement>} */ (document.querySelectorAll('details.menu'))) {
    menu.addEventListener('click', e => { if (/** @type {HTMLElement} */ (e.target).closest('.menu-items a, .menu-items button')) menu.open = false })
    document.addEventListener('click', e => { if (!menu.contains(/** @type {Node} */ (e.target))) menu.open = false })
    menu.addEventListener('keydown', e => { if (e.key === 'Escape' && menu.open) { menu.open = false; menu.querySelector('summary')?.focus() } })
  }

  const conn = new Connection({
    url: wsURL(`/api/notes/${encodeURIComponent(noteID)}/ws`),
    probeURL: `/api/notes/${encodeURIComponent(noteID)}`,
    client
  })
  // A copy left by an earlier page of this note with unconfirmed edits is
  // taken over before the first connection: its session and seqs make the
  // resend exactly-once.
  keeper.adopt().then(saved => {
    if (saved) {
      try {
        client.restore(saved)
        const n = unsentChanges()
        const changes = `${n} unsent change${n === 1 ? '' : 's'}`
        showNotice(`${changes} from your last visit ${n === 1 ? 'was' : 'were'} restored and ${n === 1 ? 'is' : 'are'} being sent.`, 'info')
      } catch (err) {
        console.error('scribe: a kept copy of unsent edits could not be restored:', err)
        keeper.discard(saved)
      }
    }
    return keeper.attach(client)
  }, err => {
    console.error('scribe: kept edits could not be read:', err)
    return keeper.attach(client)
  }).finally(() => conn.start())
  renderStatus(client.status, statusInfo())
  if (!name) askName(n => { commitName(n); view.focus() })
  window.addEventListener('online', scheduleRender)
  window.addEventListener('offline', scheduleRender)

  // Closing the page keeps unconfirmed edits on this device, to be sent when
  // the note is opened again; only when that copy failed (storage off or
  // full) does the browser ask before leaving.
  window.addEventListener('beforeunload', e => {
    if (client.pending > 0 && !keeper.ok) {
      e.preventDefault()
      e.returnValue = ''
    }
  })
  window.addEventListener('pagehide', () => keeper.save(true))
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') keeper.save() })
  window.addEventListener('pageshow', e => {
    // Back from the bfcache after another page took this one's edits over:
    // this session is no longer ours to send under.
    if (e.persisted && !keeper.resume()) location.reload()
  })
  // For the browser tests and for debugging from the console.
  window.addEventListener('hashchange', () => { if (client.synced) markLine(view, lineFromHash(location.hash)) })
  window.scribe = { client, view, conn, keeper }
  view.focus()
}

/**
 * focusNextControl moves the focus out of the editor to the next control
 * after it in the page (else the first of the toolbar, or the menu button
 * that folds it on a phone): Escape's job, so a
 * keyboard user is never left on <body>.
 * @param {HTMLElement} editor
 */
function focusNextControl (editor) {
  const all = /** @type {HTMLElement[]} */ ([...document.querySelectorAll('a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])')])
    .filter(el => !editor.contains(el) && el.offsetParent !== null)
  // On a phone the toolbar is folded into the menu: its button is next.
  const next = all.find(el => editor.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) ||
    all.find(el => el.closest('.toolbar') || el.id === 'menu-button')
  if (!next) return false
  next.focus()
  return true
}

/**
 * askName asks a guest for their name in a dialog, once per browser: the
 * answer is remembered (saveName) and given to done. Escape leaves them
 * "Anonymous" for this visit; they are asked again on the next.
 * @param {(name: string) => void} done
 */
function askName (done) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('name-dialog'))
  const input = /** @type {HTMLInputElement} */ (document.getElementById('name-dialog-input'))
  dialog.addEventListener('close', () => {
    const n = input.value.trim()
    if (dialog.returnValue !== 'cancel' && n) done(n)
  }, { once: true })
  dialog.addEventListener('cancel', () => { dialog.returnValue = 'cancel' }, { once: true })
  dialog.showModal()
  input.focus()
}

function openShortcuts () {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('shortcuts-dialog'))
  if (!dialog.open) dialog.showModal()
}

/** The shortcut help: its table, its button, and ? or Ctrl+/ anywhere outside a text field. */
function setupShortcuts () {
  const mac = /Mac|iPhone|iPad/.test(navigator.platform)
  const keyName = (/** @type {string} */ k) => k.split('-').map(p => p === 'Mod' ? (mac ? '⌘' : 'Ctrl') : p.length === 1 ? p.toUpperCase() : p).join('+')
  const rows = [
    ...SHORTCUTS.map(s => [keyName(s.key), s.label]),
    [keyName('Mod-z'), 'Undo your last edit'],
    [keyName(mac ? 'Mod-Shift-z' : 'Mod-y'), 'Redo'],
    [keyName('Mod-f'), 'Find and replace'],
    [keyName('Mod-/') + ' or ?', 'These shortcuts'],
    ['Escape', 'Leave the text, to the next control']
  ]
  const body = /** @type {HTMLElement} */ (document.getElementById('shortcuts-list'))
  body.replaceChildren(...rows.map(([k, what]) => {
    const tr = document.createElement('tr')
    const th = document.createElement('th')
    th.scope = 'row'
    const kbd = document.createElement('kbd')
    kbd.textContent = k
    th.appendChild(kbd)
    const td = document.createElement('td')
    td.textContent = what
    tr.append(th, td)
    return tr
  }))
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('shortcuts-dialog'))
  document.getElementById('shortcuts-button')?.addEventListener('click', openShortcuts)
  document.getElementById('shortcuts-close')?.addEventListener('click', () => dialog.close())
  document.addEventListener('keydown', e => {
    const t = /** @type {HTMLElement} */ (e.target)
    const typing = t.closest('input, textarea, select, [contenteditable=true]')
    if ((e.key === '?' && !typing && !e.ctrlKey && !e.metaKey) || (e.key === '/' && (e.ctrlKey || e.metaKey))) {
      e.preventDefault()
      openShortcuts()
    }
  })
}

/** @param {EditorState} state */
function selectionOf (state) {
  return state.selection.ranges.map(r => ({ anchor: r.anchor, head: r.head }))
}

/** @param {string} pathOrURL */
function absoluteURL (pathOrURL) {
  return new URL(pathOrURL, location.origin).href
}

/**
 * setupToolbar wires what the page has of the toolbar: the share controls
 * and the export button are there only for who may use them (members, the
 * local person), not for guests.
 * @param {string} noteID
 */
function setupToolbar (noteID) {
  const id = encodeURIComponent(noteID)
  const shareButton = /** @type {HTMLButtonElement|null} */ (document.getElementById('share-button'))
  const linksButton = /** @type {HTMLButtonElement|null} */ (document.getElementById('links-button'))
  const linksPanel = /** @type {HTMLElement|null} */ (document.getElementById('links-panel'))
  const linkForm = /** @type {HTMLFormElement|null} */ (document.getElementById('link-form'))
  const guestEdit = /** @type {HTMLInputElement|null} */ (document.getElementById('guest-edit'))
  const exportButton = /** @type {HTMLButtonElement|null} */ (document.getElementById('export-button'))

  /**
   * makeLink asks for a read-only link and shows it, copied when the
   * clipboard lets us. Without a label the server returns the note's
   * existing unlabelled link, so "Copy link" does not mint one per click.
   * @param {string} label
   */
  async function makeLink (label) {
    const share = await api('POST', `/api/notes/${id}/shares`, label ? { label } : {})
    const url = absoluteURL(share.url || `/s/${share.token}`)
    let copied = false
    try {
      await navigator.clipboard.writeText(url)
      copied = true
    } catch { /* no clipboard permission: show the link to copy by hand */ }
    const input = document.createElement('input')
    input.type = 'text'
    input.readOnly = true
    input.value = url
    input.className = 'share-url'
    input.id = 'share-url'
    input.setAttribute('aria-label', 'Read-only link')
    input.addEventListener('focus', () => input.select())
    const what = label ? `Read-only link "${label}"` : 'Read-only link'
    showNotice(copied ? `${what} copied to the clipboard:` : `${what} (copy it):`, 'success', input)
    if (linksPanel && !linksPanel.hidden) await loadLinks()
  }

  shareButton?.addEventListener('click', async () => {
    shareButton.disabled = true
    try {
      await makeLink('')
    } catch (err) {
      showNotice(`Could not create a read-only link: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      shareButton.disabled = false
    }
  })

  linkForm?.addEventListener('submit', async e => {
    e.preventDefault()
    const input = /** @type {HTMLInputElement} */ (linkForm.elements.namedItem('label'))
    const button = /** @type {HTMLButtonElement} */ (linkForm.querySelector('button[type=submit]'))
    const label = input.value.trim()
    button.disabled = true
    try {
      await makeLink(label)
      input.value = ''
    } catch (err) {
      showNotice(`Could not create a read-only link: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      button.disabled = false
    }
  })

  async function loadLinks () {
    const list = /** @type {HTMLElement} */ (document.getElementById('links-list'))
    await fillList(list, async () => {
      const data = await api('GET', `/api/notes/${id}/shares`)
      return Array.isArray(data) ? data : (data && Array.isArray(data.shares) ? data.shares : [])
    }, 'the links', 'No read-only links yet.', linkItem)
  }

  /**
   * linkItem is one read-only link in the panel: its label (or address),
   * who made it and when, and its revoke button.
   * @param {{token: string, url?: string, label?: string, createdAt?: string, by?: {name?: string, email?: string}}} s
   */
  function linkItem (s) {
    const li = document.createElement('li')
    li.dataset.token = s.token
    const a = document.createElement('a')
    a.href = absoluteURL(s.url || `/s/${s.token}`)
    a.textContent = s.label || a.href
    a.className = 'link-url'
    a.target = '_blank'
    a.rel = 'noopener'
    const meta = document.createElement('span')
    meta.className = 'link-meta'
    meta.textContent = linkMeta(s)
    const revoke = document.createElement('button')
    revoke.type = 'button'
    revoke.className = 'danger revoke-button'
    revoke.textContent = 'Revoke'
    revoke.setAttribute('aria-label', `Revoke ${s.label ? `the link "${s.label}"` : a.href}`)
    revoke.addEventListener('click', async () => {
      revoke.disabled = true
      try {
        await api('DELETE', `/api/notes/${id}/shares/${encodeURIComponent(s.token)}`)
        showNotice('The read-only link was revoked: anyone using it has been cut off.', 'success')
        await loadLinks()
      } catch (err) {
        revoke.disabled = false
        showNotice(`Could not revoke the link: ${/** @type {Error} */ (err).message}`, 'error')
      }
    })
    li.append(a, meta, revoke)
    return li
  }

  linksButton?.addEventListener('click', async () => {
    if (!linksPanel) return
    const open = linksPanel.hidden
    linksPanel.hidden = !open
    linksButton.setAttribute('aria-expanded', String(open))
    if (open) await loadLinks()
  })

  guestEdit?.addEventListener('change', async () => {
    const on = guestEdit.checked
    guestEdit.disabled = true
    try {
      const n = await api('PATCH', `/api/notes/${id}`, { guestEdit: on })
      guestEdit.checked = !!(n && n.guestEdit)
      showNotice(guestEdit.checked
        ? 'Anyone with this page\'s link can now edit the note, without signing in.'
        : 'Only signed-in members can open this page\'s link now.', 'success')
    } catch (err) {
      guestEdit.checked = !on
      showNotice(`Could not change guest editing: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      guestEdit.disabled = false
    }
  })

  const nextButton = /** @type {HTMLButtonElement|null} */ (document.getElementById('next-meeting'))
  nextButton?.addEventListener('click', async () => {
    nextButton.disabled = true
    try {
      const res = await api('POST', `/api/notes/${encodeURIComponent(noteID)}/next`, {})
      location.assign(`/n/${encodeURIComponent(res.note.id)}`)
    } catch (err) {
      showNotice(`Could not create the next meeting: ${/** @type {Error} */ (err).message}`, 'error')
      nextButton.disabled = false
    }
  })
  if (exportButton) setupExport(id, exportButton)
}

/**
 * setupExport wires the Export button to its dialog: a preview of the file
 * and the commit message first (POST .../export/preview, computed by the
 * exporter's own code), then Commit, which commits exactly that preview
 * (its revision goes back; a note changed since is refused with 409 and a
 * fresh preview is offered), or Cancel, which commits nothing.
 * @param {string} id the note id, URL-encoded
 * @param {HTMLButtonElement} exportButton
 */
function setupExport (id, exportButton) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('export-dialog'))
  const el = (/** @type {string} */ name) => /** @type {HTMLElement} */ (document.getElementById(name))
  const status = el('export-preview-status')
  const preview = el('export-preview')
  const commitButton = /** @type {HTMLButtonElement} */ (el('export-commit'))
  const refreshButton = /** @type {HTMLButtonElement} */ (el('export-refresh'))
  /** the previewed revision, which Commit sends back; 0 when there is nothing to commit */
  let previewRev = 0

  async function loadPreview () {
    previewRev = 0
    commitButton.disabled = true
    refreshButton.hidden = true
    preview.hidden = true
    status.textContent = 'Preparing the preview…'
    try {
      const p = await api('POST', `/api/notes/${id}/export/preview`, {})
      el('export-preview-path').textContent = p.path
      el('export-preview-message').textContent = p.message
      el('export-preview-content').textContent = p.content
      preview.hidden = false
      if (p.unchanged) {
        status.textContent = `Nothing changed since the last export (commit ${String(p.commit || '').slice(0, 12)}): there is nothing to commit.`
        return
      }
      status.textContent = 'This file and message will be committed. Check them, then commit.'
      previewRev = p.revision
      commitButton.disabled = false
    } catch (err) {
      status.textContent = `No preview: ${/** @type {Error} */ (err).message}`
    }
  }

  exportButton.addEventListener('click', () => {
    dialog.showModal()
    loadPreview()
  })
  el('export-cancel').addEventListener('click', () => dialog.close())
  refreshButton.addEventListener('click', () => loadPreview())
  commitButton.addEventListener('click', async () => {
    if (!previewRev) return
    commitButton.disabled = true
    status.textContent = 'Committing…'
    try {
      // The author is who is asking (the server knows); rev is what was previewed.
      const res = await api('POST', `/api/notes/${id}/export`, { rev: previewRev })
      dialog.close()
      const n = exportNotice(res)
      const out = document.createElement('span')
      out.className = 'export-result'
      out.id = 'export-result'
      out.dataset.path = n.path
      out.dataset.commit = n.commit
      out.dataset.pushed = String(!!(res && res.pushed))
      out.textContent = n.detail
      showNotice(n.text, n.kind, out)
    } catch (err) {
      const e = /** @type {Error & {status?: number}} */ (err)
      if (e.status === 409) {
        // Someone typed since the preview: nothing was committed.
        status.textContent = e.message
        refreshButton.hidden = false
        refreshButton.focus()
        return
      }
      status.textContent = `Export failed: ${e.message}`
      commitButton.disabled = false
    }
  })
}

/**
 * linkMeta says who made a read-only link and when: "made by Ada on 3 Dec,
 * 14:02". Old links have no maker.
 * @param {{createdAt?: string, by?: {name?: string, email?: string}}} s
 */
export function linkMeta (s) {
  const parts = []
  const by = s.by && (s.by.name || s.by.email)
  if (by) parts.push(`made by ${by}`)
  if (s.createdAt) {
    const t = new Date(s.createdAt)
    if (!Number.isNaN(t.getTime())) parts.push(`${by ? 'on' : 'made'} ${t.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`)
  }
  return parts.join(' ')
}

/**
 * exportNotice words the answer of POST /api/notes/{id}/export for the
 * notice area. A failed push is a warning: the commit exists locally, and
 * the server's pushError (which says so and why) is shown as-is, once.
 * @param {{path?: string, commit?: string, unchanged?: boolean, pushed?: boolean, pushError?: string}|null} res
 * @returns {{kind: 'success'|'warning', text: string, detail: string, path: string, commit: string}}
 */
export function exportNotice (res) {
  const r = res || {}
  const path = typeof r.path === 'string' ? r.path : ''
  const commit = typeof r.commit === 'string' ? r.commit : ''
  const short = commit.slice(0, 12)
  let text
  if (r.unchanged) {
    text = short ? `Nothing changed since the last export (commit ${short}).` : 'Nothing changed since the last export.'
  } else {
    text = 'Exported' + (path ? ` to ${path}` : '') + (short ? ` in commit ${short}` : '') + '.'
  }
  const pushError = typeof r.pushError === 'string' ? r.pushError.trim() : ''
  if (pushError) return { kind: 'warning', text, detail: pushError, path, commit }
  if (r.pushed && !r.unchanged) text += ' Pushed to the remote.'
  return { kind: 'success', text, detail: '', path, commit }
}
