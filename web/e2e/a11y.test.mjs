// Accessibility as a test: axe-core (the engine behind most accessibility
// checkers) runs inside Chromium on the home, editor and read-only pages,
// in light and dark mode, and must report no serious or critical
// violation, and no text under 4.5:1 contrast, large text included. The history
// page and the actions page are here too.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startServer, launchBrowser, newPerson, api, openEditor, waitSynced } from './harness.mjs'

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

let srv
let browser
let note
let shareURL

before(async () => {
  srv = await startServer()
  browser = await launchBrowser()
  note = await api(srv.url, 'POST', '/api/notes', { title: 'Accessible sync', template: 'meeting' })
  // Content with everything the renderer draws: a table, tasks, code, a quote, links.
  const ada = await newPerson(browser, srv.url, 'Ada')
  await openEditor(ada.page, note.id)
  await ada.page.evaluate(() => {
    const v = window.scribe.view
    v.dispatch({ changes: { from: v.state.doc.length, insert: '\nSee [the plan](https://example.com) and `make test`.\n\n> A quote.\n\n| Team | Owner |\n|---|---|\n| Web | Ada |\n\n- [x] Done\n- [ ] @ada overdue thing due 2020-01-01\n- [ ] @bob later thing\n' } })
  })
  await waitSynced(ada.page)
  await ada.context.close()
  const share = await api(srv.url, 'POST', `/api/notes/${note.id}/shares`, {})
  shareURL = new URL(share.url || `/s/${share.token}`, srv.url).href
})

after(async () => {
  if (browser) await browser.close()
  if (srv) await srv.stop()
})

/**
 * axe runs axe-core on the page and returns its serious and critical
 * violations, readably, and every text under 4.5:1 whatever its size: WCAG
 * AA lets large text have 3:1, the product asks 4.5:1 of all text. axe's
 * enhanced (AAA) contrast rule measures every text node and reports each
 * below 7:1 (4.5:1 when large) with its ratio, so its findings under 4.5:1
 * are exactly the texts this page owes.
 */
async function axe (page) {
  await page.addScriptTag({ path: axePath })
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'], rules: { 'color-contrast-enhanced': { enabled: true } } })
    const serious = r.violations.filter(v => v.id !== 'color-contrast-enhanced' && (v.impact === 'serious' || v.impact === 'critical'))
      .map(v => `${v.impact} ${v.id}: ${v.help}\n` + v.nodes.slice(0, 5).map(n => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join('\n'))
    const low = r.violations.filter(v => v.id === 'color-contrast-enhanced')
      .flatMap(v => v.nodes)
      .map(n => ({ n, ratio: Number((n.any[0] && n.any[0].data && n.any[0].data.contrastRatio) || 0) }))
      .filter(({ ratio }) => ratio > 0 && ratio < 4.5)
      .slice(0, 5)
      .map(({ n, ratio }) => `text under 4.5:1 (${ratio}): ${n.target.join(' ')}`)
    return serious.concat(low)
  })
  return result
}

for (const scheme of ['light', 'dark']) {
  test(`axe-core finds no serious or critical problem, ${scheme} mode`, async () => {
    const ada = await newPerson(browser, srv.url, 'Ada', { colorScheme: scheme, viewport: { width: 1280, height: 800 }, bypassCSP: true })
    const grace = await newPerson(browser, srv.url, 'Grace', { colorScheme: scheme, bypassCSP: true })
    try {
      const found = {}
      await ada.page.goto('/')
      await ada.page.waitForSelector('[data-page=home][data-ready=true]')
      await ada.page.waitForSelector('#note-list li .delete-button')
      found.home = await axe(ada.page)
      // The note list's delete confirmation.
      await ada.page.locator('#note-list li .delete-button').first().click()
      await ada.page.waitForSelector('#delete-dialog[open]')
      found.deleteDialog = await axe(ada.page)
      await ada.page.click('#delete-cancel')
      await ada.page.check('#filter-archived') // the archived view, empty
      await ada.page.waitForSelector('#note-list-empty:not([hidden])')
      found.archived = await axe(ada.page)

      // The editor with a second person (list, cursor label) and the split preview.
      await openEditor(grace.page, note.id)
      await openEditor(ada.page, note.id)
      await ada.page.waitForSelector('.cm-remote-caret', { state: 'attached' })
      await ada.page.click('[data-view-choice=split]')
      await ada.page.waitForSelector('#preview td')
      // With "Show authors" on: the toggle, the legend, the tinted text.
      await ada.page.click('#authors-button')
      await ada.page.waitForSelector('.cm-author', { state: 'attached' })
      await ada.page.waitForSelector('#authors-legend .legend-item')
      // Grace's cursor label fades 2 s after her last move (a 0.4 s
      // animation): caught mid-fade its text is half transparent and fails
      // contrast. Wait for the fade to end, then show the label as hovering
      // her caret does, so axe checks it settled and visible.
      await ada.page.waitForFunction(() => [...document.querySelectorAll('.cm-remote-label')]
        .every(l => l.getAnimations().every(a => a.playState === 'finished')))
      await ada.page.evaluate(() => document.querySelectorAll('.cm-remote-caret').forEach(c => c.classList.add('show')))
      found.editor = await axe(ada.page)
      await ada.page.click('#authors-button')
      await ada.page.click('#shortcuts-button')
      await ada.page.waitForSelector('#shortcuts-dialog[open]')
      found.shortcuts = await axe(ada.page)
      await ada.page.keyboard.press('Escape')
      await ada.page.click('[data-view-choice=edit]')

      // The history page with a diff drawn, inline and side by side.
      await ada.page.goto(`/n/${note.id}/history`)
      await ada.page.waitForSelector('[data-page=history][data-ready=true]')
      await ada.page.fill('#diff-from', '0')
      await ada.page.click('#diff-button')
      await ada.page.waitForSelector('#diff-view td.diff-add')
      found.history = await axe(ada.page)
      await ada.page.click('[data-diff-view=split]')
      await ada.page.waitForSelector('#diff-view table.diff-split')
      found.historySplit = await axe(ada.page)
      // Who wrote what, tinted, with its legend.
      await ada.page.click('#authors-button')
      await ada.page.waitForSelector('#rev-text .author-run')
      found.historyAuthors = await axe(ada.page)
      await ada.page.click('#authors-button')
      await ada.page.click('#restore-button')
      await ada.page.waitForSelector('#restore-dialog[open]')
      found.restoreDialog = await axe(ada.page)
      await ada.page.keyboard.press('Escape')
      // The action items page, with an overdue item (the ledger follows within a second).
      await ada.page.goto('/actions')
      await ada.page.waitForFunction(async () => {
        const r = await fetch('/api/actions?state=open')
        return (await r.json()).total >= 2
      }, null, { timeout: 10000, polling: 100 })
      await ada.page.reload()
      await ada.page.waitForSelector('[data-page=actions][data-ready=true] .action-item[data-overdue=true]')
      found.actions = await axe(ada.page)

      await grace.page.goto(shareURL)
      await grace.page.waitForSelector('[data-page=readonly][data-ready=true]')
      found.readonly = await axe(grace.page)

      const report = Object.entries(found).filter(([, v]) => v.length).map(([page, v]) => `${page} (${scheme}):\n  ${v.join('\n  ')}`)
      assert.deepEqual(report, [], report.join('\n'))
    } finally {
      await ada.context.close()
      await grace.context.close()
    }
  })
}

// The export dialog (a preview of the file and message) and the export
// notice everyone sees, on a server that exports, with commit links.
for (const scheme of ['light', 'dark']) {
  test(`axe-core finds no serious or critical problem in the export dialog and notice, ${scheme} mode`, async () => {
    const exportSrv = await startServer(['--export-repo', '{dataDir}/repo', '--export-commit-url', 'https://git.example.com/c/{sha}'])
    const ada = await newPerson(browser, exportSrv.url, 'Ada', { colorScheme: scheme, viewport: { width: 1280, height: 800 }, bypassCSP: true })
    try {
      const n = await api(exportSrv.url, 'POST', '/api/notes', { title: 'Accessible export', template: 'blank' })
      await api(exportSrv.url, 'POST', `/api/notes/${n.id}/append`, { text: '## Decisions\n- Keep it accessible\n' })
      await openEditor(ada.page, n.id)
      const found = {}
      await ada.page.click('#export-button')
      await ada.page.waitForSelector('#export-commit:not([disabled])', { timeout: 30000 })
      found.dialog = await axe(ada.page)
      await ada.page.click('#export-commit')
      await ada.page.waitForSelector('#export-status:not([hidden]) a.export-commit', { timeout: 30000 })
      found.notice = await axe(ada.page)
      const report = Object.entries(found).filter(([, v]) => v.length).map(([page, v]) => `${page} (${scheme}):\n  ${v.join('\n  ')}`)
      assert.deepEqual(report, [], report.join('\n'))
    } finally {
      await ada.context.close()
      await exportSrv.stop()
    }
  })
}
