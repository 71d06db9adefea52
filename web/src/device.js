// Notes opened on this device: what the home page lists for someone who is
// not a member (guests and viewers get no team list). Kept in this
// browser's localStorage only, never sent anywhere.
//
// An entry is the path the person opened: /n/{id} for an edit link (a
// guest holds it anyway), /s/{token} for a read-only link. A read-only
// page stores only its share path, never a note id: a viewer never learns
// the edit link, not even from their own storage.

const KEY = 'scribe.opened'
/** How many notes are kept, most recent first. */
export const MAX_OPENED = 50

/**
 * @typedef {object} Opened
 * @property {string} path  /n/{id} or /s/{token}
 * @property {string} title
 * @property {number} at    when it was last opened, ms since the epoch
 */

/** @param {unknown} e @returns {e is Opened} */
function valid (e) {
  if (!e || typeof e !== 'object') return false
  const o = /** @type {Record<string, unknown>} */ (e)
  return typeof o.path === 'string' && /^\/[ns]\/[A-Za-z0-9_-]{1,64}$/.test(o.path) &&
    typeof o.title === 'string' && typeof o.at === 'number'
}

/**
 * openedNotes lists the notes opened in this browser, most recent first.
 * Anything malformed in storage is skipped.
 * @param {Storage|undefined} [store]
 * @returns {Opened[]}
 */
export function openedNotes (store = storage()) {
  if (!store) return []
  try {
    const list = JSON.parse(store.getItem(KEY) || '[]')
    return Array.isArray(list) ? list.filter(valid).slice(0, MAX_OPENED) : []
  } catch {
    return []
  }
}

/**
 * rememberOpened records that path was opened now with this title; the
 * entry moves to the top, and the list keeps MAX_OPENED.
 * @param {string} path /n/{id} or /s/{token}
 * @param {string} title
 * @param {Storage|undefined} [store]
 * @param {number} [now]
 */
export function rememberOpened (path, title, store = storage(), now = Date.now()) {
  const entry = { path, title: title.trim().slice(0, 200), at: now }
  if (!store || !valid(entry)) return
  const list = [entry, ...openedNotes(store).filter(e => e.path !== path)].slice(0, MAX_OPENED)
  try { store.setItem(KEY, JSON.stringify(list)) } catch { /* full or disabled */ }
}

/** @returns {Storage|undefined} */
function storage () {
  try { return globalThis.localStorage } catch { return undefined }
}
