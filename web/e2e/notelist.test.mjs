// Browser tests of the members' note list on the home page: paging with
// "Older notes" to the very first note, the filters, archive and the
// archived view, delete after a confirmation, and who edited each note
// with the person filter. Real Chromium, real
// `scribe serve` (local mode: the person at the machine is a member).

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startServer, launchBrowser, newPerson, api, openEditor, waitSynced } from './harness.mjs'

let srv
let browser

before(async () => {
  srv = await startServer(['--notes-per-minute', '1000'])
  browser = await launchBrowser()
})

after(async () => {
  if (browser) await browser.close()
  if (srv) await srv.stop()
})

test('the note list pages to the first note, filters, archives and deletes', async () => {
  // 55 notes: more than the page of 50. The first is the oldest.
  const notes = []
  for (let i = 0; i < 55; i++) {
    notes.push(await api(srv.url, 'POST', '/api/notes', {
      title: `Sync ${i}`, template: i % 5 === 0 ? 'standup' : 'meeting', series: i % 5 === 0 ? 'Platform weekly' : ''
    }))
  }
  const ada = await newPerson(browser, srv.url, 'Ada')
  const { page } = ada
  const rows = page.locator('#note-list li')
  const row = title => page.locator('#note-list li', { has: page.locator(`a:text-is("${title}")`) })
  try {
    await page.goto('/')
    await page.waitForSelector('[data-page=home][data-ready=true]')
    await page.waitForSelector('#note-list li .delete-button')
    assert.equal(await rows.count(), 50)
    assert.equal(await rows.first().locator('a.note-link').textContent(), 'Sync 54')
    assert.equal(await row('Sync 0').count(), 0)

    // Older notes reaches the very first one, and then is gone.
    await page.click('#older-notes')
    await row('Sync 0').waitFor()
    assert.equal(await rows.count(), 55)
    assert.equal(await rows.last().locator('a.note-link').textContent(), 'Sync 0')
    assert.ok(await page.isHidden('#older-notes'))

    // Filters: the series narrows the list to its 11 notes.
    await page.fill('#filter-series', 'Platform weekly')
    await page.waitForFunction(() => document.querySelectorAll('#note-list li').length === 11)
    assert.equal(await row('Sync 3').count(), 0)
    await page.selectOption('#filter-template', 'meeting')
    await page.waitForSelector('#note-list-empty:not([hidden])')
    assert.equal(await page.textContent('#note-list-empty'), 'No notes match these filters.')
    await page.selectOption('#filter-template', '')
    await page.fill('#filter-series', '')
    await page.waitForFunction(() => document.querySelectorAll('#note-list li').length === 50)

    // Archive: the note leaves the list; the archived view shows it; it
    // can be unarchived there.
    await row('Sync 54').locator('.archive-button').click()
    await page.waitForSelector('#note-list-status:text("is archived")')
    assert.equal(await row('Sync 54').count(), 0)
    await page.check('#filter-archived')
    await page.waitForFunction(() => document.querySelectorAll('#note-list li').length === 1)
    assert.equal(await rows.first().locator('a.note-link').textContent(), 'Sync 54')
    await row('Sync 54').locator('.archive-button:text-is("Unarchive")').click()
    await page.waitForSelector('#note-list-empty:not([hidden])')
    await page.uncheck('#filter-archived')
    await row('Sync 54').waitFor()

    // Delete asks first; Cancel keeps the note.
    await row('Sync 53').locator('.delete-button').click()
    await page.waitForSelector('#delete-dialog[open]')
    assert.equal(await page.textContent('#delete-dialog-note'), 'Sync 53')
    await page.click('#delete-cancel')
    await page.waitForSelector('#delete-dialog', { state: 'hidden' })
    assert.equal(await row('Sync 53').count(), 1)
    await api(srv.url, 'GET', `/api/notes/${notes[53].id}`)

    // Confirmed, it is gone from the list and its links answer 404.
    await row('Sync 53').locator('.delete-button').click()
    await page.click('#delete-confirm')
    await page.waitForSelector('#note-list-status:text("was deleted")')
    assert.equal(await row('Sync 53').count(), 0)
    const res = await fetch(`${srv.url}/api/notes/${notes[53].id}`)
    assert.equal(res.status, 404)
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('the note list names who edited each note and filters by person', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'People sync', template: 'meeting' })
  await api(srv.url, 'POST', '/api/notes', { title: 'Nobody sync', template: 'meeting' })
  const ada = await newPerson(browser, srv.url, 'Ada', { bypassCSP: true }) // for axe-core
  const { page } = ada
  const row = title => page.locator('#note-list li', { has: page.locator(`a.note-link:text-is("${title}")`) })
  try {
    // Two people edit the note: Ada in the editor, Bob through the API.
    await openEditor(page, note.id)
    await page.evaluate(() => {
      const v = window.scribe.view
      v.dispatch({ changes: { from: v.state.doc.length, insert: '\nThe wombat plan.\n' } })
    })
    await waitSynced(page)
    await api(srv.url, 'POST', `/api/notes/${note.id}/append`, { text: 'Bob agrees.', author: 'Bob' })

    await page.goto('/')
    await page.waitForSelector('[data-page=home][data-ready=true]')
    await row('People sync').locator('.person-link:text-is("Bob")').waitFor()
    assert.deepEqual(await row('People sync').locator('.person-link').allTextContents(), ['Ada', 'Bob'])
    assert.equal(await row('Nobody sync').locator('.note-people').count(), 0)

    // The person filter: by one of them the note is listed, by a third it is not.
    await page.fill('#filter-person', '@bob')
    await page.waitForFunction(() => [...document.querySelectorAll('#note-list li a.note-link')].map(a => a.textContent).join() === 'People sync')
    const found = await axe(page)
    await page.fill('#filter-person', 'Carol')
    await page.waitForSelector('#note-list-empty:not([hidden])')
    assert.equal(await page.textContent('#note-list-empty'), 'No notes match these filters.')

    // The search box takes the same filter.
    await page.fill('#filter-person', 'Ada')
    await page.fill('#search-input', 'wombat')
    await page.waitForSelector('#search-results li a:text-is("People sync")', { timeout: 15000 })
    await page.fill('#filter-person', 'Carol')
    await page.waitForSelector('#search-status:text("No notes match.")')

    // An attendee's name is a link to their notes, and the address says so.
    await page.goto(`/?${new URLSearchParams({ person: 'Ada' })}`)
    await page.waitForSelector('[data-page=home][data-ready=true]')
    await page.waitForFunction(() => [...document.querySelectorAll('#note-list li a.note-link')].map(a => a.textContent).join() === 'People sync')
    assert.equal(await page.inputValue('#filter-person'), 'Ada')
    await page.fill('#filter-person', '')
    await row('Nobody sync').waitFor()
    await row('People sync').locator('.person-link:text-is("Bob")').click()
    await page.waitForFunction(() => document.querySelectorAll('#note-list li').length === 1)
    assert.equal(new URL(page.url()).search, '?person=Bob')
    assert.equal(await page.inputValue('#filter-person'), 'Bob')
    assert.deepEqual(found, [])
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

/** axe runs axe-core on the page and returns its serious and critical violations. */
async function axe (page) {
  await page.addScriptTag({ path: axePath })
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] })
    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
      .map(v => `${v.impact} ${v.id}: ${v.help} ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; ')}`)
  })
}
