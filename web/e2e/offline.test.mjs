// Browser tests of unconfirmed edits that outlive the tab (web/src/persist.js):
// typed offline, the tab closed without a word, the note opened again in
// a new tab of the same browser: the edits arrive exactly once, also when
// the server restarted in between and when the op in flight had been
// committed without its ack reaching the tab.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, launchBrowser, newPerson, api, noteText, openEditor, editorText,
  waitSynced, countOf
} from './harness.mjs'

let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  if (browser) await browser.close()
})

/** Wait until this browser keeps a copy of unconfirmed edits that includes text. */
async function waitKept (page, text) {
  await page.waitForFunction(t => Object.keys(localStorage).some(k => k.startsWith('scribe.unsent.') && localStorage.getItem(k).includes(t)), text, { timeout: 10000, polling: 50 })
}

/** The copies of unconfirmed edits this browser keeps. */
function keptKeys (page) {
  return page.evaluate(() => Object.keys(localStorage).filter(k => k.startsWith('scribe.unsent.')))
}

test('typed offline, tab closed, note reopened: the text arrives exactly once', async () => {
  const srv = await startServer()
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Train', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await openEditor(ada.page, note.id)
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('online, ', { delay: 10 })
    await waitSynced(ada.page)
    assert.deepEqual(await keptKeys(ada.page), [], 'nothing is kept when nothing is pending')

    await ada.context.setOffline(true)
    await ada.page.waitForSelector('#conn-status[data-state=offline]', { timeout: 10000 })
    const offline = 'typed in a tunnel é 😀, '
    await ada.page.keyboard.type(offline, { delay: 10 })
    await waitKept(ada.page, 'tunnel')
    // The page says the edits are kept, and closing it asks nothing.
    assert.equal(await ada.page.textContent('#conn-pending'), '1 change waiting to be sent, kept on this device.')
    assert.equal(await ada.page.evaluate(() => window.scribe.keeper.ok), true)
    await ada.page.close({ runBeforeUnload: false })
    assert.ok(!(await noteText(srv.url, note.id)).includes('tunnel'))

    await ada.context.setOffline(false)
    const again = await ada.context.newPage()
    await openEditor(again, note.id)
    await again.waitForSelector('#notice:not([hidden]) .notice-text:text-is("1 unsent change from your last visit was restored and is being sent.")')
    await waitSynced(again)
    const server = await noteText(srv.url, note.id)
    assert.equal(server, `# Train\n\nonline, ${offline}`)
    assert.equal(await editorText(again), server)
    await again.waitForFunction(() => !Object.keys(localStorage).some(k => k.startsWith('scribe.unsent.')), null, { timeout: 5000 })

    // A third visit restores nothing: it was sent once.
    await again.close({ runBeforeUnload: false })
    const third = await ada.context.newPage()
    await openEditor(third, note.id)
    await waitSynced(third)
    assert.equal(await third.isHidden('#notice'), true)
    assert.equal(await noteText(srv.url, note.id), server)
  } finally {
    await ada.context.close()
    await srv.stop()
  }
})

test('an edit committed but never acknowledged, the tab closed, the server restarted: each edit once', async () => {
  let srv = await startServer()
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Restart', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    // The websocket goes through the test: once `deaf`, the server's frames
    // no longer reach the page (its ops still reach the server), so an op
    // is committed and its ack lost.
    let deaf = false
    await ada.page.routeWebSocket(/\/ws$/, ws => {
      const server = ws.connectToServer()
      ws.onMessage(m => server.send(m))
      server.onMessage(m => { if (!deaf) ws.send(m) })
    })
    await openEditor(ada.page, note.id)
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('one ', { delay: 10 })
    await waitSynced(ada.page)

    deaf = true
    await ada.page.keyboard.insertText('committed') // one edit, one op
    // Committed on the server; the page still has it in flight.
    for (let i = 0; !(await noteText(srv.url, note.id)).includes('committed'); i++) {
      assert.ok(i < 100, 'the op never reached the server')
      await ada.page.waitForTimeout(50)
    }
    assert.ok(await ada.page.evaluate(() => window.scribe.client.inflight !== null))
    await ada.page.keyboard.type(' and buffered', { delay: 10 })
    await waitKept(ada.page, 'buffered')
    const committedText = await noteText(srv.url, note.id)
    await ada.page.close({ runBeforeUnload: false })

    // The server restarts on the same data directory and port (the same
    // origin, so the same localStorage).
    await srv.stop(true)
    srv = await startServer([], { dataDir: srv.dataDir, port: srv.port })
    assert.equal(await noteText(srv.url, note.id), committedText)

    const again = await ada.context.newPage()
    await openEditor(again, note.id)
    await waitSynced(again)
    const server = await noteText(srv.url, note.id)
    assert.equal(server, '# Restart\n\none committed and buffered')
    for (const t of ['one ', 'committed', ' and buffered']) assert.equal(countOf(server, t), 1, `"${t}" in ${JSON.stringify(server)}`)
    assert.equal(await editorText(again), server)
  } finally {
    await ada.context.close()
    await srv.stop()
  }
})
