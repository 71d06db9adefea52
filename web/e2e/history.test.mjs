// Browser tests of the history page (/n/{id}/history): the timeslider,
// playback, checkpoints with their names and commit links, diffs, naming a
// revision, restoring one (seen live in another person's editor) and the
// head following the note. Real Chromium, real `scribe serve`.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  startServer, launchBrowser, newPerson, api, openEditor, editorText, waitSynced, screenshotDir
} from './harness.mjs'

let srv
let browser

before(async () => {
  srv = await startServer(['--export-commit-url', 'https://git.example.com/team/notes/commit/{sha}'])
  browser = await launchBrowser()
})

after(async () => {
  if (browser) await browser.close()
  if (srv) await srv.stop()
})

/** textAt reads the text at a revision the way a script would. */
async function textAt (id, rev) {
  const res = await fetch(`${srv.url}/api/notes/${id}/text?rev=${rev}`)
  assert.equal(res.status, 200)
  return res.text()
}

/** openHistory opens the history page and waits until its checkpoints are listed. */
async function openHistory (page, id) {
  await page.goto(`/n/${id}/history`)
  await page.waitForSelector('[data-page=history][data-ready=true]', { timeout: 15000 })
}

/** shownRevision waits until the page shows rev's text, and returns that text. */
async function waitShown (page, rev) {
  await page.waitForSelector(`[data-page=history][data-shown-revision="${rev}"]`, { timeout: 10000 })
  return page.textContent('#rev-text')
}

/** A note with five appended lines: revisions 0 (the template) to 5. */
async function noteWithLines (title) {
  const note = await api(srv.url, 'POST', '/api/notes', { title, template: 'blank' })
  for (let i = 1; i <= 5; i++) {
    await api(srv.url, 'POST', `/api/notes/${note.id}/append`, { text: `line ${i}\n`, author: i % 2 ? 'Ada' : 'Grace' })
  }
  return note
}

test('the timeslider shows earlier revisions, plays back, and the editor links to it', async () => {
  const note = await noteWithLines('Slider sync')
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    // From the editor's toolbar to the history and back.
    await openEditor(ada.page, note.id)
    await ada.page.click('#history-link')
    await ada.page.waitForSelector('[data-page=history][data-ready=true]')
    assert.equal(await waitShown(ada.page, 5), await textAt(note.id, 5))
    assert.equal(await ada.page.getAttribute('#rev-slider', 'max'), '5')
    assert.match(await ada.page.textContent('#rev-info'), /^Revision 5 of 5 · .* · edited by (Ada, Grace|Grace, Ada)$/)

    // Drag the thumb from the right end to the left third of the track.
    const box = await ada.page.locator('#rev-slider').boundingBox()
    const y = box.y + box.height / 2
    await ada.page.mouse.move(box.x + box.width - 4, y)
    await ada.page.mouse.down()
    await ada.page.mouse.move(box.x + box.width * 0.6, y, { steps: 4 })
    await ada.page.mouse.move(box.x + box.width * 0.3, y, { steps: 4 })
    await ada.page.mouse.up()
    const rev = Number(await ada.page.inputValue('#rev-slider'))
    assert.ok(rev >= 1 && rev <= 3, `dragged to ${rev}`)
    const text = await waitShown(ada.page, rev)
    assert.equal(text, await textAt(note.id, rev))
    assert.ok(text.includes(`line ${rev}\n`) && !text.includes(`line ${rev + 1}`), text)
    assert.match(await ada.page.getAttribute('#rev-slider', 'aria-valuetext'), new RegExp(`^Revision ${rev} of 5 · `))

    // The keyboard moves it too: Home is the note's creation.
    await ada.page.focus('#rev-slider')
    await ada.page.keyboard.press('Home')
    assert.equal(await waitShown(ada.page, 0), await textAt(note.id, 0))
    assert.match(await ada.page.textContent('#rev-info'), /the note was created/)
    await ada.page.click('#step-forward')
    assert.equal(await waitShown(ada.page, 1), await textAt(note.id, 1))

    // Playback from the start shows revision after revision up to the head.
    await ada.page.evaluate(() => {
      const root = document.getElementById('app')
      window.played = []
      new MutationObserver(() => window.played.push(Number(root.dataset.shownRevision)))
        .observe(root, { attributes: true, attributeFilter: ['data-shown-revision'] })
    })
    await ada.page.focus('#rev-slider')
    await ada.page.keyboard.press('End')
    await waitShown(ada.page, 5)
    await ada.page.evaluate(() => { window.played = [] })
    await ada.page.click('#play-button')
    await ada.page.waitForSelector('#play-button[aria-pressed=false]', { timeout: 15000 })
    assert.deepEqual(await ada.page.evaluate(() => window.played), [0, 1, 2, 3, 4, 5])
    assert.equal(await ada.page.textContent('#playback-status'), 'Paused at revision 5 of 5.')

    await ada.page.click('#back-to-note')
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('diff two revisions, name one, see the export commit linked', async () => {
  const note = await noteWithLines('Diff sync')
  await api(srv.url, 'POST', `/api/notes/${note.id}/checkpoints`, { name: 'exported as 1a2b3c4d5e6f', rev: 2 })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await openHistory(ada.page, note.id)
    // Checkpoints, newest first: the head, the export at 2, the creation.
    // (A minute boundary while appending may add one between them.)
    const revs = await ada.page.$$eval('#checkpoint-list > li.checkpoint', lis => lis.map(li => Number(li.dataset.rev)))
    assert.deepEqual([revs[0], revs.at(-1)], [5, 0], String(revs))
    assert.ok(revs.includes(2) && revs.every((r, i) => i === 0 || r < revs[i - 1]), String(revs))
    const link = ada.page.locator('li.checkpoint[data-rev="2"] .checkpoint-names a')
    assert.equal(await link.textContent(), '1a2b3c4d5e6f')
    assert.equal(await link.getAttribute('href'), 'https://git.example.com/team/notes/commit/1a2b3c4d5e6f')
    assert.match(await ada.page.textContent('li.checkpoint[data-rev="5"] .checkpoint-meta'), /^(Ada|Grace)(, (Ada|Grace))? · \+\d+ −0$/)

    // Inline: revisions 1 to 3 added lines 2 and 3.
    await ada.page.fill('#diff-from', '1')
    await ada.page.fill('#diff-to', '3')
    await ada.page.click('#diff-button')
    await ada.page.waitForSelector('[data-page=history][data-diff="1-3"]')
    assert.deepEqual(await ada.page.$$eval('#diff-view td.diff-add ins', els => els.map(e => e.textContent)), ['line 2', 'line 3'])
    assert.match(await ada.page.textContent('#diff-summary'), /2 lines added, 0 lines removed/)

    // Side by side: the removed line beside nothing, the added ones on the right.
    await ada.page.click('[data-diff-view=split]')
    await ada.page.waitForSelector('#diff-view table.diff-split')
    const rows = await ada.page.$$eval('#diff-view table.diff-split tbody tr', trs => trs.map(tr => [...tr.querySelectorAll('td.diff-text')].map(td => td.className.replace('diff-text ', '') + ':' + (td.querySelector('ins,del,span:not(.diff-sign):not(.visually-hidden)')?.textContent ?? ''))))
    assert.deepEqual(rows.at(-2), ['diff-empty:', 'diff-add:line 2'])
    assert.deepEqual(rows.at(-1), ['diff-empty:', 'diff-add:line 3'])

    // A checkpoint's "Changes" shows what happened in it.
    const changes = ada.page.locator('li.checkpoint[data-rev="5"] .checkpoint-diff')
    const since = (await changes.getAttribute('aria-label')).match(/^Changes from revision (\d+) to 5$/)[1]
    await changes.click()
    await ada.page.waitForSelector(`[data-page=history][data-diff="${since}-5"]`)
    assert.ok(await ada.page.evaluate(() => document.activeElement.id === 'diff-heading'), 'focus is not on the diff')
    await ada.page.click('[data-diff-view=inline]')

    // Naming the revision the slider is at.
    await ada.page.focus('#rev-slider')
    await ada.page.keyboard.press('ArrowLeft')
    await waitShown(ada.page, 4)
    await ada.page.fill('#checkpoint-name', 'before the vote')
    await ada.page.click('#name-button')
    await ada.page.waitForSelector('li.checkpoint[data-rev="4"] .checkpoint-names li:text-is("before the vote")')

    await ada.page.setViewportSize({ width: 1200, height: 900 })
    await ada.page.evaluate(() => window.scrollTo(0, 0))
    await ada.page.screenshot({ path: join(await screenshotDir(), 'history.png'), fullPage: true })
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('restore from the history page reaches an open editor live, and the head follows edits', async () => {
  const note = await noteWithLines('Restore sync')
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(grace.page, note.id)
    await openHistory(ada.page, note.id)
    await ada.page.focus('#rev-slider')
    for (let i = 0; i < 3; i++) await ada.page.keyboard.press('ArrowLeft')
    const old = await waitShown(ada.page, 2)

    // Cancelling changes nothing; confirming restores.
    await ada.page.click('#restore-button')
    await ada.page.waitForSelector('#restore-dialog[open]')
    await ada.page.click('#restore-cancel')
    await ada.page.click('#restore-button')
    await ada.page.click('#restore-confirm')
    await grace.page.waitForFunction(want => window.scribe.view.state.doc.toString() === want, old, { timeout: 10000 })
    await ada.page.waitForSelector('[data-page=history][data-head="6"][data-shown-revision="6"]')
    assert.equal(await ada.page.textContent('#rev-text'), old)
    assert.match(await ada.page.textContent('#notice'), /Revision 2 is restored/)
    assert.ok((await textAt(note.id, 5)).includes('line 5\n'), 'history was rewritten')

    // Grace types; the history page's head (and the slider, which was at it) follows.
    await grace.page.click('.cm-content')
    await grace.page.keyboard.press('Control+End')
    await grace.page.keyboard.type('after the restore')
    await waitSynced(grace.page)
    const head = (await api(srv.url, 'GET', `/api/notes/${note.id}`)).revision
    await ada.page.waitForSelector(`[data-page=history][data-head="${head}"][data-shown-revision="${head}"]`, { timeout: 20000 })
    assert.equal(await ada.page.textContent('#rev-text'), await editorText(grace.page))
    assert.equal(await ada.page.getAttribute('#rev-slider', 'max'), String(head))
    assert.deepEqual(ada.errors, [])
    assert.deepEqual(grace.errors, [])
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('the history page works at a phone width', async () => {
  const note = await noteWithLines('Phone sync')
  const ada = await newPerson(browser, srv.url, 'Ada', { viewport: { width: 360, height: 740 } })
  try {
    await openHistory(ada.page, note.id)
    const overflow = await ada.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`)
    const box = await ada.page.locator('#rev-slider').boundingBox()
    assert.ok(box.width >= 120, `slider ${box.width}px wide`)
  } finally {
    await ada.context.close()
  }
})
