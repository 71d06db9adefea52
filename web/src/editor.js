// The editor page (/n/{id}): CodeMirror 6 wired to the OT client, the
// people here, the connection indicator and the toolbar.

import { EditorState, Compartment, Transaction } from '@codemirror/state'
import { EditorView, keymap, drawSelection, highlightActiveLine, placeholder } from '@codemirror/view'
import { history, defaultKeymap, historyKeymap, indentWithTab } from '@codemirror/commands'
import { markdown } from '@codemirror/lang-markdown'
import { syntaxHighlighting, HighlightStyle } from '@codemirror/language'
import { searchKeymap, highlightSelectionMatches } from '@codemirror/search'
import { tags } from '@lezer/highlight'
import { CollabClient, newSessionID } from './collab.js'
import { Connection, wsURL } from './connection.js'
import { changesToOp, opToChanges, remoteChange, peersField, setPeers, safeColor } from './cm.js'
import { api, showNotice, renderStatus, loadName, saveName } from './ui.js'

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
  { tag: tags.quote, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.list, color: 'var(--accent)' }
])

/** @param {HTMLElement} root the element with data-note-id */
export function startEditor (root) {
  const noteID = /** @type {string} */ (root.dataset.noteId) // the page always sets it
  let name = loadName()
  const nameInput = /** @type {HTMLInputElement} */ (document.getElementById('display-name'))
  nameInput.value = name

  const editable = new Compartment()
  /** @type {EditorView} */
  let view
  let cursorsQueued = false

  const client = new CollabClient({
    session: newSessionID(),
    name,
    callbacks: {
      send: () => {}, // set by Connection
      reset: text => {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)]
        })
      },
      remote: op => {
        view.dispatch({
          changes: opToChanges(op),
          annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)]
        })
        if (view.state.doc.length !== client.doc.length) {
          // Cannot happen if both sides agree; if it does, trust the client's text.
          view.dispatch({
            changes: { from: 0, to: view.state.doc.length, insert: client.doc },
            annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)]
          })
        }
      },
      changed: () => scheduleRender(),
      error: (code, message) => {
        if (code === 'ERATELIMIT') return // the client slows down by itself
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
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
        markdown(),
        syntaxHighlighting(highlight),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'Note text', 'aria-describedby': 'editor-help', spellcheck: 'true', autocapitalize: 'sentences' }),
        placeholder('Start typing markdown…'),
        peersField,
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

  let renderQueued = false
  function scheduleRender () {
    if (renderQueued) return
    renderQueued = true
    queueMicrotask(() => {
      renderQueued = false
      render()
    })
  }

  let wasSynced = false
  let goneShown = false
  function render () {
    renderStatus(client.status, client.pending)
    if (client.synced && !wasSynced) {
      wasSynced = true
      view.dispatch({ effects: editable.reconfigure([]) })
      root.dataset.ready = 'true'
    }
    if (client.title) {
      const h = document.getElementById('note-title')
      if (h && h.textContent !== client.title) {
        h.textContent = client.title
        document.title = `${client.title} · Scribe`
      }
    }
    if (client.status === 'gone' && !goneShown) {
      goneShown = true
      view.dispatch({ effects: editable.reconfigure([EditorState.readOnly.of(true)]) })
      showNotice(client.goneReason || 'This note is no longer available.', 'error')
    }
    const peers = client.peerList().map(p => ({ ...p, color: safeColor(p.color), name: p.name || 'Anonymous' }))
    renderPresence(peers)
    if (!cursorsQueued) {
      cursorsQueued = true
      // Not inside an update listener: dispatch on the next microtask.
      queueMicrotask(() => {
        cursorsQueued = false
        view.dispatch({ effects: setPeers.of(client.peerList().filter(p => !p.readonly).map(p => ({ ...p, color: safeColor(p.color), name: p.name || 'Anonymous' }))) })
      })
    }
  }

  /** @param {{client: string, name: string, color: string, readonly: boolean}[]} peers */
  function renderPresence (peers) {
    const list = /** @type {HTMLElement} */ (document.getElementById('presence-list'))
    list.replaceChildren()
    const me = { client: client.client, name: `${name} (you)`, color: safeColor(client.color || '#495057'), readonly: false }
    for (const p of [me, ...peers]) {
      const li = document.createElement('li')
      li.className = 'presence-item'
      li.dataset.client = p.client
      const dot = document.createElement('span')
      dot.className = 'presence-dot'
      dot.style.backgroundColor = p.color
      dot.setAttribute('aria-hidden', 'true')
      const label = document.createElement('span')
      label.className = 'presence-name'
      label.textContent = p.name
      li.append(dot, label)
      if (p.readonly) {
        const ro = document.createElement('span')
        ro.className = 'presence-ro'
        ro.textContent = 'viewing'
        li.appendChild(ro)
      }
      list.appendChild(li)
    }
    /** @type {HTMLElement} */ (document.getElementById('presence-heading')).textContent = `Here now (${peers.length + 1})`
  }

  // --- name ---
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let nameTimer
  const commitName = () => {
    const n = nameInput.value.trim().slice(0, 64)
    if (!n || n === name) return
    name = n
    saveName(n)
    client.setName(n)
    scheduleRender()
  }
  nameInput.addEventListener('input', () => {
    clearTimeout(nameTimer)
    nameTimer = setTimeout(commitName, 600)
  })
  nameInput.addEventListener('change', commitName)
  nameInput.addEventListener('keydown', e => {
    if (e.key === 'Enter') {
      commitName()
      view.focus()
    }
  })

  // --- toolbar ---
  setupToolbar(noteID, () => name)

  const conn = new Connection({
    url: wsURL(`/api/notes/${encodeURIComponent(noteID)}/ws`),
    probeURL: `/api/notes/${encodeURIComponent(noteID)}`,
    client
  })
  conn.start()
  renderStatus(client.status, client.pending)

  window.addEventListener('beforeunload', e => {
    if (client.pending > 0) {
      e.preventDefault()
      e.returnValue = ''
    }
  })
  // For the browser tests and for debugging from the console.
  window.scribe = { client, view, conn }
  view.focus()
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
 * @param {string} noteID
 * @param {() => string} getName
 */
function setupToolbar (noteID, getName) {
  const id = encodeURIComponent(noteID)
  // The editor page's template always has these.
  const shareButton = /** @type {HTMLButtonElement} */ (document.getElementById('share-button'))
  const linksButton = /** @type {HTMLButtonElement} */ (document.getElementById('links-button'))
  const linksPanel = /** @type {HTMLElement} */ (document.getElementById('links-panel'))
  const exportButton = /** @type {HTMLButtonElement} */ (document.getElementById('export-button'))

  shareButton.addEventListener('click', async () => {
    shareButton.disabled = true
    try {
      const share = await api('POST', `/api/notes/${id}/shares`, {})
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
      showNotice(copied ? 'Read-only link copied to the clipboard:' : 'Read-only link (copy it):', 'success', input)
      if (!linksPanel.hidden) await loadLinks()
    } catch (err) {
      showNotice(`Could not create a read-only link: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      shareButton.disabled = false
    }
  })

  async function loadLinks () {
    const list = /** @type {HTMLElement} */ (document.getElementById('links-list'))
    list.replaceChildren()
    let shares
    try {
      const data = await api('GET', `/api/notes/${id}/shares`)
      shares = Array.isArray(data) ? data : (data && Array.isArray(data.shares) ? data.shares : [])
    } catch (err) {
      const li = document.createElement('li')
      li.textContent = `Could not load the links: ${/** @type {Error} */ (err).message}`
      list.appendChild(li)
      return
    }
    if (shares.length === 0) {
      const li = document.createElement('li')
      li.className = 'empty'
      li.textContent = 'No read-only links yet.'
      list.appendChild(li)
      return
    }
    for (const s of shares) {
      const li = document.createElement('li')
      li.dataset.token = s.token
      const a = document.createElement('a')
      a.href = absoluteURL(s.url || `/s/${s.token}`)
      a.textContent = a.href
      a.target = '_blank'
      a.rel = 'noopener'
      const meta = document.createElement('span')
      meta.className = 'link-meta'
      if (s.createdAt) meta.textContent = `created ${new Date(s.createdAt).toLocaleString()}`
      const revoke = document.createElement('button')
      revoke.type = 'button'
      revoke.className = 'danger revoke-button'
      revoke.textContent = 'Revoke'
      revoke.setAttribute('aria-label', `Revoke ${a.href}`)
      revoke.addEventListener('click', async () => {
        revoke.disabled = true
        try {
          await api('DELETE', `/api/shares/${encodeURIComponent(s.token)}`)
          showNotice('The read-only link was revoked: anyone using it has been cut off.', 'success')
          await loadLinks()
        } catch (err) {
          revoke.disabled = false
          showNotice(`Could not revoke the link: ${/** @type {Error} */ (err).message}`, 'error')
        }
      })
      li.append(a, meta, revoke)
      list.appendChild(li)
    }
  }

  linksButton.addEventListener('click', async () => {
    const open = linksPanel.hidden
    linksPanel.hidden = !open
    linksButton.setAttribute('aria-expanded', String(open))
    if (open) await loadLinks()
  })

  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true
    const old = exportButton.textContent
    exportButton.textContent = 'Exporting…'
    try {
      const res = await api('POST', `/api/notes/${id}/export`, { author: getName() })
      const n = exportNotice(res)
      const el = document.createElement('span')
      el.className = 'export-result'
      el.id = 'export-result'
      el.dataset.path = n.path
      el.dataset.commit = n.commit
      el.dataset.pushed = String(!!(res && res.pushed))
      el.textContent = n.detail
      showNotice(n.text, n.kind, el)
    } catch (err) {
      showNotice(`Export failed: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      exportButton.disabled = false
      exportButton.textContent = old
    }
  })
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
