// The home page: create a note from a template, list recent notes.

import { api, localizeTimes } from './ui.js'

/** @param {HTMLElement} root */
export function startHome (root) {
  localizeTimes(root)
  setInterval(() => localizeTimes(root), 60 * 1000)
  const form = /** @type {HTMLFormElement} */ (document.getElementById('create-form'))
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
  root.dataset.ready = 'true'
}
