// Browser tests of action items across notes: the /actions page lists the
// task items of three notes by owner, overdue first; ticking one there is
// an edit that another person sees live in the note; the link opens the
// editor at the item's line; the home page links to one's own items.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newPerson, api, noteText, openEditor, editorText, sleep } from './harness.mjs'

let srv
let browser

before(async () => {
  srv = await startServer(['--local-name', 'Ana Lima', '--local-email', 'ana@example.com'])
  browser = await launchBrowser()
})

after(async () => {
  if (browser) await browser.close()
  if (srv) await srv.stop()
})

/**
 * untilActions polls GET /api/actions until ok(page) holds: the ledger
 * follows the store's change feed within about a second.
 */
async function untilActions (query, ok) {
  const deadline = Date.now() + 10000
  for (;;) {
    const page = await api(srv.url, 'GET', `/api/actions?${query}`)
    if (ok(page)) return page
    assert.ok(Date.now() < deadline, `GET /api/actions?${query} did not get there within 10 s: ${JSON.stringify(page)}`)
    await sleep(100)
  }
}

test('/actions lists three notes\' items by owner, overdue first; a tick there edits the note live', async () => {
  const notes = []
  const bodies = [
    '- [ ] @ana fix the build due 2020-01-05\n- [x] @bob book the room\n',
    '- [ ] @ana write the release notes by 2999-12-20\n- [ ] @bob order pizza\n',
    '- [ ] @carol call the vendor 📅 2999-01-01\n'
  ]
  for (const [i, text] of bodies.entries()) {
    const note = await api(srv.url, 'POST', '/api/notes', { title: `Sync ${i + 1}`, template: 'blank' })
    await api(srv.url, 'POST', `/api/notes/${note.id}/append`, { text })
    notes.push(note)
  }
  await untilActions('', p => p.items.filter(it => notes.some(n => n.id === it.note)).length === 5)

  const ada = await newPerson(browser, srv.url, 'Ada')
  const bob = await newPerson(browser, srv.url, 'Bob')
  try {
    // Bob has the second note open.
    await openEditor(bob.page, notes[1].id)

    // The home page links to the local person's (Ana Lima, @ana) open items, counted.
    await ada.page.goto('/')
    await ada.page.waitForSelector('[data-page=home][data-ready=true]')
    assert.equal(await ada.page.textContent('#my-actions-count'), '2')
    await ada.page.click('#my-actions')
    await ada.page.waitForURL(/\/actions\?owner=me$/)
    await ada.page.waitForSelector('[data-page=actions][data-ready=true]')
    assert.deepEqual(await ada.page.locator('.actions-group h2').allTextContents(), ['@ana 1 overdue'])
    assert.deepEqual(await ada.page.locator('.action-item label').allTextContents(), ['@ana fix the build', '@ana write the release notes'])
    assert.equal(await ada.page.locator('.action-item').first().getAttribute('data-overdue'), 'true')

    // Everyone's open items: grouped by owner.
    await ada.page.fill('#actions-owner', '')
    await ada.page.click('#actions-apply')
    await ada.page.waitForSelector('[data-page=actions][data-ready=true]')
    const groups = await ada.page.locator('.actions-group h2').allTextContents()
    assert.deepEqual(groups.slice(0, 3), ['@ana 1 overdue', '@bob', '@carol'])

    // Ticking Bob's pizza on /actions is an edit Bob sees live in the note.
    const pizza = ada.page.locator('.action-item', { hasText: 'order pizza' })
    await pizza.locator('input[type=checkbox]').check()
    await ada.page.waitForSelector('#notice[data-kind=success]')
    await bob.page.waitForFunction(() => window.scribe.view.state.doc.toString().includes('- [x] @bob order pizza'), null, { timeout: 10000 })
    assert.match(await noteText(srv.url, notes[1].id), /- \[x\] @bob order pizza/)

    // Bob changes the item in the note: unticking from the stale list is refused, clearly.
    await bob.page.evaluate(() => {
      const v = window.scribe.view
      const text = v.state.doc.toString()
      const at = text.indexOf('order pizza')
      v.dispatch({ changes: { from: at, to: at + 'order pizza'.length, insert: 'order sushi' } })
    })
    await ada.page.waitForFunction(async id => (await (await fetch(`/api/notes/${id}/text`)).text()).includes('sushi'), notes[1].id, { timeout: 10000 })
    // (click, not uncheck: the box is put back when the server refuses, which may come first)
    await pizza.locator('input[type=checkbox]').click()
    await ada.page.waitForSelector('#notice[data-kind=error]')
    assert.match(await ada.page.textContent('#notice'), /changed or removed/)
    assert.equal(await pizza.locator('input[type=checkbox]').isChecked(), true)

    // Ticking in the note reaches /actions: Bob ticks the release notes.
    await bob.page.evaluate(() => {
      const v = window.scribe.view
      const at = v.state.doc.toString().indexOf('- [ ] @ana write')
      v.dispatch({ changes: { from: at + 3, to: at + 4, insert: 'x' } })
    })
    await untilActions('owner=ana&state=open', p => !p.items.some(it => it.note === notes[1].id))

    // The link opens the note at the item's line, marked.
    await ada.page.goto('/actions?owner=carol')
    await ada.page.waitForSelector('[data-page=actions][data-ready=true]')
    const link = ada.page.locator('.action-item a.action-source').first()
    const carol = await api(srv.url, 'GET', '/api/actions?owner=carol')
    assert.equal(await link.getAttribute('href'), `/n/${notes[2].id}#L${carol.items[0].line}`)
    await link.click()
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    const marked = ada.page.locator('.cm-marked-line')
    await marked.waitFor()
    assert.match(await marked.textContent(), /@carol call the vendor/)
    assert.ok(await editorText(ada.page))
    // The one refusal above is logged by the browser; nothing else.
    assert.deepEqual(ada.errors.filter(e => !/status of 409/.test(e)), [])
    assert.deepEqual(bob.errors, [])
  } finally {
    await ada.context.close()
    await bob.context.close()
  }
})

test('"Next meeting" twice: a series of three meetings carries the open items forward', async () => {
  const first = await api(srv.url, 'POST', '/api/notes', { title: 'Design review', template: 'meeting' })
  await api(srv.url, 'POST', `/api/notes/${first.id}/append`, { text: '- [ ] @dan draw the diagram due 2026-12-24\n- [x] @eve send the invite\n' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await openEditor(ada.page, first.id)
    let id = first.id
    for (const meeting of [2, 3]) {
      await ada.page.click('#next-meeting')
      await ada.page.waitForURL(u => !u.pathname.endsWith(id), { timeout: 15000 })
      await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
      const text = await editorText(ada.page)
      assert.match(text, /## Open action items from \d{4}-\d{2}-\d{2}\n\n- \[ \] @dan draw the diagram due 2026-12-24 \(from \[/, `meeting ${meeting}`)
      assert.ok(!text.includes('send the invite'), `meeting ${meeting} carried a done item`)
      assert.match(await ada.page.textContent('#note-title'), /^Design review \d{4}-\d{2}-\d{2}$/)
      // The previous meeting says where the item went.
      assert.match(await noteText(srv.url, id), /@dan draw the diagram due 2026-12-24.*\(carried over to \[/)
      id = new URL(ada.page.url()).pathname.split('/').pop()
    }
    // Listed once: open in the third meeting only.
    const open = await untilActions('owner=dan&state=open', p => p.total === 1 && p.items[0].note === id)
    assert.equal(open.items[0].due, '2026-12-24')
    // The series together: the note's series link lists its three meetings
    // on the home page, and nothing else.
    await ada.page.click('#series-link')
    await ada.page.waitForURL(u => u.pathname === '/' && u.searchParams.get('series') === 'Design review', { timeout: 15000 })
    await ada.page.waitForFunction(() => document.querySelectorAll('#note-list li').length === 3, null, { timeout: 15000 })
    assert.equal(await ada.page.inputValue('#filter-series'), 'Design review')
    const titles = await ada.page.$$eval('#note-list a.note-link', as => as.map(a => a.textContent))
    assert.equal(titles.filter(t => t.startsWith('Design review')).length, 3, titles.join(', '))
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})
