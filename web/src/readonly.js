// The read-only page (/s/{token}): the note rendered as HTML, kept up to
// date through the read-only websocket. It never sends an edit.

import { CollabClient, newSessionID } from './collab.js'
import { Connection, wsURL } from './connection.js'
import { renderMarkdown } from './markdown.js'
import { renderStatus, showNotice, loadName } from './ui.js'
import { rememberOpened } from './device.js'
import { renderExport } from './exported.js'

/** @param {HTMLElement} root the element with data-token */
export function startReadOnly (root) {
  const token = /** @type {string} */ (root.dataset.token) // the page always sets it
  const article = /** @type {HTMLElement} */ (document.getElementById('rendered'))
  let frame = 0
  /** @type {import('@codemirror/state').Text|null} */
  let rendered = null
  let goneShown = false
  const exportStatus = /** @type {HTMLElement} */ (document.getElementById('export-status'))
  const commitURL = root.dataset.commitTemplate || ''
  // The home page lists it under "notes you opened on this device": the
  // share path only, never anything of the edit link.
  const titleOf = () => (document.getElementById('note-title')?.textContent || '').trim()
  let rememberedTitle = titleOf()
  rememberOpened(`/s/${token}`, rememberedTitle)

  const draw = () => {
    frame = 0
    if (rendered === client.doc) return // an immutable Text: same object, same text
    rendered = client.doc
    article.innerHTML = renderMarkdown(client.doc.toString())
    root.dataset.rev = String(client.rev)
  }
  const scheduleDraw = () => {
    if (!frame) frame = requestAnimationFrame(draw)
  }

  const client = new CollabClient({
    session: newSessionID(),
    name: loadName(),
    callbacks: {
      send: () => {},
      reset: scheduleDraw,
      remote: scheduleDraw,
      changed: () => {
        renderStatus(client.status)
        renderExport(exportStatus, client.lastExport, client.changedSinceExport(), commitURL)
        if (client.title) {
          const h = document.getElementById('note-title')
          if (h && h.textContent !== client.title) h.textContent = client.title
          if (client.title !== rememberedTitle) {
            rememberedTitle = client.title
            rememberOpened(`/s/${token}`, rememberedTitle)
          }
        }
        if (client.synced) root.dataset.ready = 'true'
        if (client.status === 'gone' && !goneShown) {
          goneShown = true
          root.dataset.gone = 'true'
          showNotice(`${client.goneReason || 'This read-only link no longer works.'} The text below is the last version you received; it no longer updates.`, 'error')
        }
      }
    }
  })

  const conn = new Connection({
    url: wsURL(`/api/shares/${encodeURIComponent(token)}/ws`),
    probeURL: `/api/shares/${encodeURIComponent(token)}`,
    client
  })
  conn.start()
  renderStatus(client.status)
  window.scribe = { client, conn }
}
