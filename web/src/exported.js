// The note's latest export as everyone in the note sees it, editors and
// read-only viewers alike: "Exported by Ana as 1a2b3c4d5e6f at 14:05",
// the commit a link when the server has a commit URL (--export-commit-url),
// and whether the note changed since (docs/export.md).

/** How many hex digits of a commit are shown, as in the history's checkpoints. */
export const shortCommit = 12

/**
 * commitLink is the link to commit that the server's template makes
 * ("{sha}" replaced by the hash), or '' without a template or for one
 * that is not http(s).
 * @param {string} template
 * @param {string} commit
 */
export function commitLink (template, commit) {
  if (!template || !commit || !/^[0-9a-f]+$/.test(commit)) return ''
  const url = template.split('{sha}').join(commit)
  return /^https?:\/\//i.test(url) ? url : ''
}

/**
 * exportWhen words when an export was made, in the reader's time zone:
 * "14:05" on the day it was made, "3 Dec 2026, 14:05" later.
 * @param {string} time an RFC 3339 time
 * @param {Date} [now]
 */
export function exportWhen (time, now = new Date()) {
  const t = new Date(time)
  if (Number.isNaN(t.getTime())) return ''
  const hm = t.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  if (t.toDateString() === now.toDateString()) return `at ${hm}`
  return `on ${t.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })} at ${hm}`
}

/**
 * renderExport shows export in el: who exported, the commit (a link when
 * template makes one) and when, then whether the note changed since. It
 * touches the page only when what it shows changes (it runs on every
 * keystroke). el.dataset.commit and el.dataset.changed say what is shown.
 * @param {HTMLElement} el
 * @param {import('./collab.js').Export|null} exp
 * @param {boolean} changed
 * @param {string} template
 */
export function renderExport (el, exp, changed, template) {
  if (!exp) {
    el.hidden = true
    return
  }
  if (el.dataset.commit === exp.commit && el.dataset.time === exp.time && el.dataset.changed === String(changed)) return
  el.dataset.commit = exp.commit
  el.dataset.time = exp.time
  el.dataset.changed = String(changed)
  const short = exp.commit.slice(0, shortCommit)
  const link = commitLink(template, exp.commit)
  const commit = document.createElement(link ? 'a' : 'code')
  commit.className = 'export-commit'
  commit.textContent = short
  if (link && commit instanceof HTMLAnchorElement) {
    commit.href = link
    commit.target = '_blank'
    commit.rel = 'noopener'
    commit.title = `Commit ${exp.commit}`
  }
  const when = exportWhen(exp.time)
  const state = document.createElement('span')
  state.className = 'export-changed'
  state.textContent = changed ? 'Changed since this export' : 'Unchanged since this export'
  el.replaceChildren(`Exported by ${exp.by || 'someone'} as `, commit, when ? ` ${when}. ` : '. ', state)
  el.hidden = false
}
