// Browser tests of the editor: two people typing into one note at once,
// cursors and presence, and a connection lost and regained mid-typing.
// Real Chromium, real `scribe serve`; see harness.mjs.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  startServer, launchBrowser, newPerson, api, noteText, openEditor, editorText,
  waitSynced, countOf, screenshotDir, sleep
} from './harness.mjs'

let srv
let browser

before(async () => {
  srv = await startServer()
  browser = await launchBrowser()
})

after(async () => {
  if (browser) await browser.close()
  if (srv) await srv.stop()
})

/** Put the caret at the end of the document (keyboard only, as a person would). */
async function caretToEnd (page) {
  await page.click('.cm-content')
  await page.keyboard.press('Control+End')
}

test('two people type into one note at once and end with the same text as the server', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Design review', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    assert.equal(await editorText(ada.page), '# Design review\n\n')

    await caretToEnd(ada.page)
    await grace.page.click('.cm-content')
    await grace.page.keyboard.press('Control+Home')
    const adaText = 'Ada: café, naïve, Zoë 😀 👍🏽 — done.\n'
    const graceText = 'Grace: façade, Ærøskøbing, 中文 🚀.\n'
    // Both type at the same time, keystroke by keystroke.
    await Promise.all([
      ada.page.keyboard.type(adaText, { delay: 15 }),
      grace.page.keyboard.type(graceText, { delay: 15 })
    ])
    await waitSynced(ada.page)
    await waitSynced(grace.page)
    // Wait for the last remote ops to arrive on both sides.
    await ada.page.waitForFunction(t => window.scribe.view.state.doc.toString().includes(t), graceText)
    await grace.page.waitForFunction(t => window.scribe.view.state.doc.toString().includes(t), adaText)

    const a = await editorText(ada.page)
    const g = await editorText(grace.page)
    const server = await noteText(srv.url, note.id)
    assert.equal(a, g, 'the two editors differ')
    assert.equal(a, server, 'the editors differ from GET /api/notes/{id}/text')
    assert.equal(countOf(server, adaText), 1, 'Ada\'s text is not there exactly once')
    assert.equal(countOf(server, graceText), 1, 'Grace\'s text is not there exactly once')
    assert.ok(server.startsWith(graceText), 'Grace typed at the start')
    assert.ok(server.endsWith(adaText), 'Ada typed at the end')

    // Presence: each sees the other in the list and the other's cursor label.
    await ada.page.waitForSelector('.presence-item .presence-name:text-is("Grace")')
    await grace.page.waitForSelector('.presence-item .presence-name:text-is("Ada")')
    await ada.page.waitForSelector('.cm-remote-label .cm-remote-short:text-is("Grace")', { state: 'attached' })
    await grace.page.waitForSelector('.cm-remote-label .cm-remote-short:text-is("Ada")', { state: 'attached' })

    // Undo undoes only your own edits: Grace's undo never removes Ada's text.
    await grace.page.keyboard.press('Control+z')
    await waitSynced(grace.page)
    await ada.page.waitForFunction(() => window.scribe.client.pending === 0)
    await sleep(300)
    const afterUndo = await noteText(srv.url, note.id)
    assert.equal(countOf(afterUndo, adaText), 1, 'undo removed the other person\'s text')
    assert.ok(afterUndo.length < server.length, 'undo removed nothing')
    assert.equal(await editorText(ada.page), afterUndo)

    // Redo brings Grace's own text back.
    await grace.page.keyboard.press('Control+y')
    await waitSynced(grace.page)
    await ada.page.waitForFunction(t => window.scribe.view.state.doc.toString().includes(t), graceText)
    assert.equal(await noteText(srv.url, note.id), server)

    // Ada renames herself: Grace sees the new name, and Ada's browser
    // remembers it after a reload.
    await ada.page.fill('#display-name', 'Ada L.')
    await ada.page.press('#display-name', 'Enter')
    await grace.page.waitForSelector('.presence-item .presence-name:text-is("Ada L.")')
    await ada.page.reload()
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    assert.equal(await ada.page.inputValue('#display-name'), 'Ada L.')
    await grace.page.waitForSelector('.presence-item .presence-name:text-is("Ada L.")')

    assert.deepEqual(ada.errors, [], 'Ada\'s page logged errors')
    assert.deepEqual(grace.errors, [], 'Grace\'s page logged errors')
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('a peer\'s cursor follows their typing, and ours', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Cursors', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    await caretToEnd(ada.page)
    await grace.page.click('.cm-content')
    await grace.page.keyboard.press('Control+Home')
    const adaID = await ada.page.evaluate(() => window.scribe.client.client)
    // Where Grace's editor draws Ada's caret, or -1.
    const caretOf = ([id, text]) => {
      const v = window.scribe.view
      if (!v.state.doc.toString().includes(text)) return -1
      const el = v.dom.querySelector(`.cm-remote-caret[data-client="${id}"]`)
      return el ? v.posAtDOM(el) : -1
    }
    // Once Grace has Ada's caret where she put it, count the presence
    // messages about Ada that Grace's page receives: typing moves Ada's
    // caret through the ops alone (docs/protocol.md).
    const start = await ada.page.evaluate(() => window.scribe.view.state.selection.main.head)
    await grace.page.waitForFunction(([id, head]) => {
      const v = window.scribe.view
      const el = v.dom.querySelector(`.cm-remote-caret[data-client="${id}"]`)
      return el !== null && v.posAtDOM(el) === head
    }, [adaID, start], { timeout: 10000 })
    await sleep(300)
    await grace.page.evaluate(id => {
      const client = window.scribe.client
      const receive = client.receive.bind(client)
      window.presenceOfAda = 0
      client.receive = frame => {
        for (const m of Array.isArray(frame) ? frame : [frame]) {
          if (m && m.type === 'presence' && m.client === id) window.presenceOfAda++
        }
        receive(frame)
      }
    }, adaID)
    for (const word of ['one ', 'two ', 'three 😀']) {
      await ada.page.keyboard.type(word, { delay: 20 })
      await waitSynced(ada.page)
      const head = await ada.page.evaluate(() => window.scribe.view.state.selection.main.head)
      await grace.page.waitForFunction(([id, text, head]) => {
        const v = window.scribe.view
        const el = v.dom.querySelector(`.cm-remote-caret[data-client="${id}"]`)
        return v.state.doc.toString().endsWith(text) && el !== null && v.posAtDOM(el) === head
      }, [adaID, word, head], { timeout: 10000 }).catch(async e => {
        throw new Error(`Grace draws Ada's caret at ${await grace.page.evaluate(caretOf, [adaID, word])}, Ada has it at ${head}: ${e.message}`)
      })
    }
    await sleep(300)
    assert.equal(await grace.page.evaluate(() => window.presenceOfAda), 0, 'presence messages followed Ada\'s typing')
    // Grace types before Ada's caret: it moves right in Grace's editor too.
    const before = await grace.page.evaluate(caretOf, [adaID, 'three'])
    assert.ok(before > 0, `Grace draws Ada's caret at ${before}`)
    await grace.page.keyboard.type('G: ', { delay: 20 })
    await grace.page.waitForFunction(([id, want]) => {
      const v = window.scribe.view
      const el = v.dom.querySelector(`.cm-remote-caret[data-client="${id}"]`)
      return el !== null && v.posAtDOM(el) === want
    }, [adaID, before + 3], { timeout: 10000 }).catch(async e => {
      throw new Error(`Grace draws Ada's caret at ${await grace.page.evaluate(caretOf, [adaID, 'G: '])} after typing before it, want ${before + 3}: ${e.message}`)
    })
    await waitSynced(grace.page)
    assert.deepEqual(ada.errors, [], 'Ada\'s page logged errors')
    assert.deepEqual(grace.errors, [], 'Grace\'s page logged errors')
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('cursor labels fade, come back on a move, sit on their own line and read at 4.5:1; two tabs are one person', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Labels', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace Brewster Hopper')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    await caretToEnd(grace.page)
    await grace.page.keyboard.type('first line\nsecond line', { delay: 5 })
    await waitSynced(grace.page)
    const label = ada.page.locator('.cm-remote-label').first()
    await label.waitFor()
    assert.equal(await label.textContent(), 'GraceGrace Brewster Hopper') // short, and full for hover
    assert.equal(await ada.page.locator('.cm-remote-label .cm-remote-short').textContent(), 'Grace')
    // It fades after about 2 s without a move...
    const opacity = () => ada.page.evaluate(() => Number(getComputedStyle(document.querySelector('.cm-remote-label')).opacity))
    await ada.page.waitForFunction(() => getComputedStyle(document.querySelector('.cm-remote-label')).opacity === '0', null, { timeout: 5000, polling: 100 })
    // ...and comes back when Grace moves.
    await grace.page.keyboard.press('ArrowLeft')
    await ada.page.waitForFunction(() => getComputedStyle(document.querySelector('.cm-remote-label')).opacity === '1', null, { timeout: 5000, polling: 20 })
    assert.equal(await opacity(), 1)
    // It sits on Grace's line, not over the line above.
    const [labelBox, lineBox] = await ada.page.evaluate(() => {
      const l = document.querySelector('.cm-remote-label').getBoundingClientRect()
      const line = document.querySelector('.cm-remote-caret').closest('.cm-line').getBoundingClientRect()
      return [{ top: l.top, bottom: l.bottom }, { top: line.top, bottom: line.bottom }]
    })
    assert.ok(labelBox.top >= lineBox.top - 1 && labelBox.bottom <= lineBox.bottom + 1, `label ${JSON.stringify(labelBox)} outside its line ${JSON.stringify(lineBox)}`)
    // Its text reads at 4.5:1 or more on its colour.
    const ratio = await ada.page.evaluate(() => {
      const s = getComputedStyle(document.querySelector('.cm-remote-label'))
      const lum = c => {
        const [r, g, b] = c.match(/\d+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 })
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
      }
      const a = lum(s.color); const b = lum(s.backgroundColor)
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
    })
    assert.ok(ratio >= 4.5, `label contrast ${ratio.toFixed(2)}:1`)
    // Hovering Grace in the list shows her full name on the label.
    await ada.page.hover('.presence-item[title="Grace Brewster Hopper"]')
    await ada.page.waitForSelector('.cm-remote-label .cm-remote-full:visible')

    // Grace opens a second tab: one entry, two tabs, in both pages.
    const tab2 = await grace.context.newPage()
    await openEditor(tab2, note.id)
    await ada.page.waitForSelector('.presence-item[title="Grace Brewster Hopper"] .presence-tabs:text-is("2 tabs")')
    await grace.page.waitForSelector('.presence-item:has(.presence-name:text-is("Grace Brewster Hopper (you)")) .presence-tabs:text-is("2 tabs")')
    assert.equal(await ada.page.locator('.presence-item').count(), 2)
    // The full name is shown whole, with a tooltip too.
    assert.equal(await ada.page.getAttribute('.presence-item:nth-child(2)', 'title'), 'Grace Brewster Hopper')
    // Her colour is the same in both browsers.
    const colorIn = page => page.evaluate(() => [...document.querySelectorAll('.presence-item')].find(li => li.title === 'Grace Brewster Hopper').dataset.color)
    assert.equal(await colorIn(ada.page), await colorIn(grace.page))
    await tab2.close()
    await ada.page.waitForFunction(() => !document.querySelector('.presence-tabs'))
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('12 people get 12 distinct colours, the same in every browser', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Big meeting', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  const names = ['Barbara', 'Ken', 'Dennis', 'Margaret', 'Alan', 'Edsger', 'Donald', 'Frances', 'John', 'Radia']
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    // Ten more people: real websocket clients (docs/protocol.md), opened from Grace's page.
    await grace.page.evaluate(([id, names]) => {
      window.others = names.map(name => {
        const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/api/notes/${id}/ws`)
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, session: crypto.randomUUID().replaceAll('-', ''), name }))
        return ws
      })
    }, [note.id, names])
    for (const page of [ada.page, grace.page]) await page.waitForFunction(() => document.querySelectorAll('.presence-item').length === 12, null, { timeout: 15000 })
    const colors = page => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.presence-item')].map(li => [li.title, li.dataset.color])))
    const a = await colors(ada.page)
    assert.equal(new Set(Object.values(a)).size, 12, JSON.stringify(a))
    assert.deepEqual(await colors(grace.page), a)
    // A person's colour does not depend on the visit: Ada alone in another
    // note, after a reload, has the same colour both times.
    const alone = await api(srv.url, 'POST', '/api/notes', { title: 'Alone', template: 'blank' })
    await openEditor(ada.page, alone.id)
    const first = (await colors(ada.page)).Ada
    await ada.page.reload()
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    assert.equal((await colors(ada.page)).Ada, first)
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('keyboard: formatting shortcuts, the shortcut help, a styled search panel, Escape', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Keys', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await openEditor(ada.page, note.id)
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('one two three\nalpha\nbeta', { delay: 2 })
    const select = (from, to) => ada.page.evaluate(([f, t]) => {
      const v = window.scribe.view
      const d = v.state.doc.toString()
      v.dispatch({ selection: { anchor: d.indexOf(f), head: t === undefined ? d.indexOf(f) + f.length : d.indexOf(t) + t.length } })
      v.focus()
    }, [from, to])
    await select('two')
    await ada.page.keyboard.press('Control+b')
    await select('one')
    await ada.page.keyboard.press('Control+i')
    await select('three')
    await ada.page.keyboard.press('Control+k')
    await ada.page.keyboard.type('https://example.com', { delay: 2 }) // "url" was selected: typed over
    await select('alpha', 'beta')
    await ada.page.keyboard.press('Control+Shift+7')
    assert.ok((await editorText(ada.page)).endsWith('*one* **two** [three](https://example.com)\n1. alpha\n2. beta'), await editorText(ada.page))
    await select('alpha', 'beta')
    await ada.page.keyboard.press('Control+Shift+8')
    assert.ok((await editorText(ada.page)).endsWith('\n- alpha\n- beta'))
    await ada.page.keyboard.press('Control+Shift+9')
    await waitSynced(ada.page)
    assert.equal(await noteText(srv.url, note.id), '# Keys\n\n*one* **two** [three](https://example.com)\n- [ ] alpha\n- [ ] beta')

    // Ctrl+/ shows the shortcuts; Escape closes them; ? does too outside the text.
    await ada.page.keyboard.press('Control+/')
    await ada.page.waitForSelector('#shortcuts-dialog[open] kbd:text-is("Ctrl+B")')
    await ada.page.keyboard.press('Escape')
    await ada.page.waitForSelector('#shortcuts-dialog:not([open])', { state: 'attached' })
    await ada.page.focus('#share-button')
    await ada.page.keyboard.press('?')
    await ada.page.waitForSelector('#shortcuts-dialog[open]')
    await ada.page.click('#shortcuts-close')
    await ada.page.waitForSelector('#shortcuts-dialog:not([open])', { state: 'attached' })

    // Ctrl+F opens the search panel, drawn with the page's own controls.
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+f')
    const field = ada.page.locator('.cm-search input.cm-textfield').first()
    await field.waitFor()
    const style = await field.evaluate(el => { const s = getComputedStyle(el); return { radius: s.borderTopLeftRadius, height: el.getBoundingClientRect().height } })
    assert.equal(style.radius, '6px')
    assert.ok(style.height >= 32, `search field ${style.height}px high`)
    // Escape closes the panel, a second Escape leaves the editor for a control.
    await ada.page.keyboard.press('Escape')
    await ada.page.waitForSelector('.cm-search', { state: 'detached' })
    assert.ok(await ada.page.evaluate(() => !!document.activeElement.closest('.cm-editor')))
    await ada.page.keyboard.press('Escape')
    const focused = await ada.page.evaluate(() => ({ tag: document.activeElement.tagName, inEditor: !!document.activeElement.closest('.cm-editor') }))
    assert.ok(focused.tag !== 'BODY' && !focused.inEditor, `focus is on ${JSON.stringify(focused)}`)
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('preview: split and reading views, remembered; a ticked box is an edit others see; contents jump', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Preview', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada', { viewport: { width: 1280, height: 800 } })
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    await caretToEnd(ada.page)
    // (Enter continues a list by itself, so the second task's marker is CodeMirror's.)
    await ada.page.keyboard.type('| Team | Owner |\n|---|---|\n| Web | Ada |\n\n## Tasks\n\n- [ ] Write the notes\nSend them <script>window.pwned=1</script>\n', { delay: 1 })
    await waitSynced(ada.page)
    await ada.page.click('[data-view-choice=split]')
    await ada.page.waitForSelector('#preview td:text-is("Ada")')
    assert.ok(await ada.page.isVisible('.cm-content'), 'split hides the text')
    assert.equal(await ada.page.locator('#preview script').count(), 0)
    assert.equal(await ada.page.evaluate(() => window.pwned), undefined)
    // Typing shows up in the preview.
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('\nLive **bold**', { delay: 1 })
    await ada.page.waitForSelector('#preview strong:text-is("bold")')

    // Ticking a box edits the text; Grace's editor and the server see it.
    await ada.page.locator('#preview li:has-text("Write the notes") input[type=checkbox]').check()
    await waitSynced(ada.page)
    await grace.page.waitForFunction(() => window.scribe.view.state.doc.toString().includes('- [x] Write the notes'))
    assert.ok((await noteText(srv.url, note.id)).includes('- [x] Write the notes\n- [ ] Send them'))

    // The contents list jumps to a heading.
    await ada.page.click('#toc-list .toc-link:text-is("Tasks")')
    const line = await ada.page.evaluate(() => { const v = window.scribe.view; return v.state.doc.lineAt(v.state.selection.main.head).text })
    assert.equal(line, '## Tasks')

    // The choice is remembered: after a reload the split view is back.
    await ada.page.reload()
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    assert.equal(await ada.page.getAttribute('[data-view-choice=split]', 'aria-pressed'), 'true')
    await ada.page.waitForSelector('#preview td:text-is("Web")')
    await ada.page.screenshot({ path: join(await screenshotDir(), 'editor-split.png') })
    // Reading mode: rendered only.
    await ada.page.click('[data-view-choice=read]')
    await ada.page.waitForSelector('.cm-editor', { state: 'hidden' })
    assert.ok(await ada.page.isVisible('#preview h2:text-is("Tasks")'))
    await ada.page.click('[data-view-choice=edit]')
    await ada.page.waitForSelector('#preview', { state: 'hidden' })
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('going offline mid-typing loses nothing and doubles nothing', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Flaky Wi-Fi', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const linus = await newPerson(browser, srv.url, 'Linus')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(linus.page, note.id)
    await caretToEnd(ada.page)
    await caretToEnd(linus.page)
    await ada.page.waitForSelector('.presence-item .presence-name:text-is("Linus")')

    const before = 'typed online, '
    await linus.page.keyboard.type(before, { delay: 10 })
    await waitSynced(linus.page)

    // Linus's network goes away: the browser reports offline, and the
    // client drops its websocket at once.
    await linus.context.setOffline(true)
    await linus.page.waitForSelector('#conn-status[data-state=offline]', { timeout: 10000 })
    // The server saw the websocket close: Linus left Ada's list.
    await ada.page.waitForFunction(() => ![...document.querySelectorAll('.presence-name')].some(e => e.textContent === 'Linus'), null, { timeout: 15000 })

    const offline = 'typed offline é 😀 — still here, '
    await linus.page.keyboard.type(offline, { delay: 10 })
    const pending = await linus.page.evaluate(() => window.scribe.client.pending)
    assert.ok(pending > 0, 'the offline edits are not counted as unconfirmed')
    // Calm: the network is named, and what waits is counted in changes
    // (one place typed into), not in keystrokes.
    assert.equal(await linus.page.textContent('#conn-status .conn-text'), 'Offline — your changes are kept and will be sent')
    const shown = await linus.page.textContent('#conn-pending')
    assert.equal(shown, '1 change waiting to be sent, kept on this device.', `the indicator shows "${shown}"`)
    // Meanwhile Ada keeps typing, so Linus's edits must be transformed on return.
    const adaText = '\nAda while Linus was away.'
    await ada.page.keyboard.type(adaText, { delay: 5 })
    await waitSynced(ada.page)
    assert.ok(!(await noteText(srv.url, note.id)).includes('typed offline'), 'offline edits reached the server')

    await linus.context.setOffline(false)
    await waitSynced(linus.page, 30000)
    await ada.page.waitForFunction(t => window.scribe.view.state.doc.toString().includes(t), offline, { timeout: 15000 })
    await linus.page.waitForFunction(t => window.scribe.view.state.doc.toString().includes(t), adaText, { timeout: 15000 })

    const server = await noteText(srv.url, note.id)
    assert.equal(await editorText(linus.page), server)
    assert.equal(await editorText(ada.page), server)
    for (const t of [before, offline, adaText]) assert.equal(countOf(server, t), 1, `"${t}" appears ${countOf(server, t)} times in ${JSON.stringify(server)}`)
    assert.equal(await linus.page.getAttribute('#conn-status', 'data-state'), 'connected')
    await linus.page.waitForSelector('#conn-status .conn-text:text-is("Saved")')
    assert.equal(await linus.page.textContent('#conn-pending'), '')
  } finally {
    await ada.context.close()
    await linus.context.close()
  }
})

test('the status stays calm while typing, and names an unreachable server', async () => {
  const own = await startServer()
  const note = await api(own.url, 'POST', '/api/notes', { title: 'Calm', template: 'blank' })
  const ada = await newPerson(browser, own.url, 'Ada')
  try {
    await openEditor(ada.page, note.id)
    await ada.page.waitForSelector('#conn-status .conn-text:text-is("Saved")')
    // Record every text the indicator shows from now on.
    await ada.page.evaluate(() => {
      window.statusSeen = []
      const el = document.querySelector('#conn-status')
      new MutationObserver(() => window.statusSeen.push(el.textContent.trim())).observe(el, { subtree: true, childList: true, characterData: true })
    })
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('Typing at a normal pace on a local server: the status does not move. '.repeat(2), { delay: 25 })
    await waitSynced(ada.page)
    const seen = await ada.page.evaluate(() => window.statusSeen)
    assert.ok(seen.every(t => !/unsaved|Saving|change/.test(t)), `the status moved while typing: ${JSON.stringify(seen)}`)
    assert.equal(await ada.page.textContent('#conn-status .conn-text'), 'Saved')

    // The server goes away while the network stays up: the page says so,
    // without blaming the network, and keeps the typing.
    await own.stop()
    await ada.page.waitForSelector('#conn-status .conn-text:text-is("Can\'t reach Scribe — retrying, your changes are kept")', { timeout: 20000 })
    await ada.page.keyboard.type('still typing', { delay: 5 })
    await ada.page.waitForSelector('#conn-pending:text-is("1 change waiting to be sent, kept on this device.")')
    assert.ok((await editorText(ada.page)).endsWith('still typing'))
  } finally {
    await ada.context.close()
    await own.stop()
  }
})

test('a websocket that dies silently is detected and edits are resent once', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Silent drop', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    // Route the websocket through the test, so it can be cut without the
    // browser's offline signal: the client must notice by itself.
    let cut = false
    const servers = []
    await ada.page.routeWebSocket(/\/ws$/, ws => {
      if (cut) { ws.close({ code: 1006, reason: 'blocked' }); return }
      const server = ws.connectToServer()
      servers.push({ ws, server })
      ws.onMessage(m => { if (!cut) server.send(m) })
      server.onMessage(m => { if (!cut) ws.send(m) })
    })
    await openEditor(ada.page, note.id)
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('one ', { delay: 10 })
    await waitSynced(ada.page)

    cut = true // frames now vanish both ways, and the socket stays "open"
    await ada.page.keyboard.type('two ', { delay: 10 })
    await ada.page.waitForSelector('#conn-status:is([data-state=reconnecting],[data-state=offline])', { timeout: 20000 })
    cut = false
    await waitSynced(ada.page, 30000)
    const server = await noteText(srv.url, note.id)
    assert.equal(server, '# Silent drop\n\none two ')
    assert.equal(await editorText(ada.page), server)
  } finally {
    await ada.context.close()
  }
})

test('an idle editor pings, and notices a websocket that silently swallows frames without typing', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Idle drop', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    let cut = false
    const fromPage = []
    const fromServer = []
    await ada.page.routeWebSocket(/\/ws$/, ws => {
      if (cut) { ws.close({ code: 1006, reason: 'blocked' }); return }
      const server = ws.connectToServer()
      ws.onMessage(m => { fromPage.push(String(m)); if (!cut) server.send(m) })
      server.onMessage(m => { fromServer.push(String(m)); if (!cut) ws.send(m) })
    })
    await ada.page.clock.install() // the page's clock, which the test runs forward timer by timer
    await openEditor(ada.page, note.id)
    await waitSynced(ada.page)
    const firstClient = await ada.page.evaluate(() => window.scribe.client.client)
    const pings = () => fromPage.filter(m => JSON.parse(m).type === 'ping').length

    // Idle for 16 s: the page pings, the server answers, nothing else happens.
    await ada.page.clock.runFor(16000)
    await ada.page.waitForFunction(() => true) // let the page flush its sends
    // The pong's wait is a failure bound (30 s), not a timing assertion: a loaded CI machine is slow.
    for (let i = 0; i < 600 && !fromServer.some(m => m.includes('"pong"')); i++) await sleep(50)
    assert.equal(pings(), 1, `pings sent: ${fromPage.join(' ')}`)
    assert.ok(fromServer.some(m => /^\[\{"type":"pong","id":\d+\}\]$/.test(m)), `no pong among ${fromServer.join(' ')}`)
    await ada.page.clock.runFor(12000)
    assert.equal(await ada.page.getAttribute('#conn-status', 'data-state'), 'connected')
    assert.equal(await ada.page.evaluate(() => window.scribe.client.client), firstClient, 'an answered connection was replaced')

    // Frames now vanish both ways and the socket stays "open"; nobody types.
    cut = true
    await ada.page.clock.runFor(16000 + 11000)
    await ada.page.waitForSelector('#conn-status:is([data-state=reconnecting],[data-state=offline])', { timeout: 10000 })
    assert.ok(pings() >= 2, 'the page did not ping the silent connection')
    cut = false
    await ada.page.waitForFunction(c => window.scribe.client.client !== c && window.scribe.client.status === 'connected', firstClient, { timeout: 30000 })
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('back', { delay: 5 })
    await waitSynced(ada.page)
    assert.equal(await noteText(srv.url, note.id), '# Idle drop\n\nback')
    assert.deepEqual(ada.errors.filter(e => !/WebSocket/.test(e)), [])
  } finally {
    await ada.context.close()
  }
})

test('after the machine sleeps, the editor reconnects at once and keeps the edits', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Lid closed', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await ada.page.clock.install() // the page's clock, which the test can jump forward
    await openEditor(ada.page, note.id)
    await caretToEnd(ada.page)
    await ada.page.keyboard.type('before sleep, ', { delay: 5 })
    await waitSynced(ada.page)
    const firstClient = await ada.page.evaluate(() => window.scribe.client.client)
    // 20 s pass in one jump, as when a laptop wakes up.
    await ada.page.clock.fastForward(20000)
    await ada.page.keyboard.type('after waking', { delay: 5 })
    await ada.page.waitForFunction(c => window.scribe.client.client !== c && window.scribe.client.status === 'connected', firstClient, { timeout: 15000 })
    await waitSynced(ada.page)
    const server = await noteText(srv.url, note.id)
    assert.equal(server, '# Lid closed\n\nbefore sleep, after waking')
    assert.equal(await editorText(ada.page), server)
  } finally {
    await ada.context.close()
  }
})

test('a paste larger than one websocket message arrives whole, once', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Big paste', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    // About 600 KB of UTF-8: more than twice the old 256 KB message limit;
    // the default limit now fits an edit that fills a note.
    const paste = await ada.page.evaluate(() => {
      const text = 'Line of pasted minutes, café ✅ 😀\n'.repeat(15000)
      const view = window.scribe.view
      view.dispatch({ changes: { from: view.state.doc.length, insert: text }, userEvent: 'input.paste' })
      return text
    })
    await waitSynced(ada.page, 60000)
    await grace.page.waitForFunction(n => window.scribe.view.state.doc.length === n, (await ada.page.evaluate(() => window.scribe.view.state.doc.length)), { timeout: 60000 })
    const server = await noteText(srv.url, note.id)
    assert.equal(server, '# Big paste\n\n' + paste)
    assert.equal(await editorText(grace.page), server)
    const ops = await ada.page.evaluate(() => window.scribe.client.seq)
    assert.equal(ops, 1, `one paste is one op, sent as ${ops}`)
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('a paste that would make the note larger than its limit is refused whole, naming the limit', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Too big', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await openEditor(ada.page, note.id)
    const before = await editorText(ada.page)
    await ada.page.evaluate(() => {
      const text = 'line of a very large paste\n'.repeat(41000) // 1.1 MB; the limit is 1 MiB
      const view = window.scribe.view
      view.dispatch({ changes: { from: view.state.doc.length, insert: text }, userEvent: 'input.paste' })
    })
    assert.equal(await editorText(ada.page), before, 'part of the paste was applied')
    assert.match(await ada.page.textContent('#notice'), /1048576/)
    assert.equal(await ada.page.evaluate(() => window.scribe.client.seq), 0, 'an op was sent')
    assert.equal(await noteText(srv.url, note.id), before)
  } finally {
    await ada.context.close()
  }
})

test('screenshot: a meeting with two people taking notes', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Platform weekly sync', template: 'meeting' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    const fill = async (page, after, text) => {
      // Put the caret at the end of the line that starts with `after`.
      const pos = await page.evaluate(a => {
        const doc = window.scribe.view.state.doc.toString()
        const i = doc.indexOf(a) + a.length
        return doc.indexOf('\n', i) === -1 ? doc.length : doc.indexOf('\n', i)
      }, after)
      await page.evaluate(p => { window.scribe.view.dispatch({ selection: { anchor: p } }); window.scribe.view.focus() }, pos)
      await page.keyboard.type(text, { delay: 2 })
      await waitSynced(page)
    }
    // Enter in a list continues it (CodeMirror's markdown keymap), so only
    // the first item's marker comes from the template.
    await fill(ada.page, '## Attendees\n\n- ', 'Ada Lovelace\nGrace Hopper\nLinus 🐧')
    await fill(grace.page, '## Agenda\n\n1. ', 'Release 2.4 status\nOn-call handover')
    await fill(ada.page, '## Notes\n', '\nRelease 2.4 is on track; the migration ran on staging without errors. 🎉')
    await fill(grace.page, '## Decisions\n\n- ', 'Ship 2.4 on Thursday, café-style rollout: 10 %, then 100 %.')
    await fill(ada.page, '## Action items\n\n- [ ] ', 'Grace: write the release notes')
    // Grace selects a word, so Ada sees her selection and label.
    await grace.page.evaluate(() => {
      const doc = window.scribe.view.state.doc.toString()
      const i = doc.indexOf('Thursday')
      window.scribe.view.dispatch({ selection: { anchor: i, head: i + 'Thursday'.length } })
    })
    await ada.page.waitForSelector('.cm-remote-selection')
    await ada.page.waitForSelector('.cm-remote-label .cm-remote-short:text-is("Grace")', { state: 'attached' })
    await sleep(300)
    await ada.page.screenshot({ path: join(await screenshotDir(), 'editor.png') })
    assert.equal(await editorText(ada.page), await editorText(grace.page))
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})

test('an editor on a phone-sized screen in dark mode', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Stand-up', template: 'standup' })
  const ada = await newPerson(browser, srv.url, 'Ada', { viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true })
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(grace.page, note.id)
    await openEditor(ada.page, note.id)
    // Everything needed is on screen without sideways scrolling.
    const overflow = await ada.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`)
    // The first line of text starts within 160 px of the top.
    const firstLine = await ada.page.evaluate(() => document.querySelector('.cm-line').getBoundingClientRect().top)
    assert.ok(firstLine <= 160, `the first line of text starts at ${firstLine}px`)
    // The people list is a count; the toolbar is one menu.
    await ada.page.waitForSelector('#people-count:text-is("2 people here")')
    assert.ok(!(await ada.page.isVisible('#presence-list')))
    assert.ok(!(await ada.page.isVisible('#share-button')))
    const bg = await ada.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    assert.equal(bg, 'rgb(22, 24, 29)', 'dark mode does not follow prefers-color-scheme')
    await ada.page.screenshot({ path: join(await screenshotDir(), 'editor-phone-dark.png') })
    await ada.page.click('#menu-button')
    for (const sel of ['#share-button', '#download-menu', '#display-name', '[data-view-choice=read]']) {
      assert.ok(await ada.page.isVisible(sel), `${sel} is not visible in the menu`)
    }
    // This server has no export configured: no Export button at all.
    assert.equal(await ada.page.locator('#export-button').count(), 0, 'an Export button without export configured')
    // Keyboard only: Tab goes from the name to the next control.
    await ada.page.focus('#display-name')
    await ada.page.keyboard.press('Tab')
    assert.equal(await ada.page.evaluate(() => document.activeElement.dataset.viewChoice), 'edit')
    await ada.page.keyboard.press('Escape') // closes the menu
    await ada.page.waitForSelector('#toolbar', { state: 'hidden' })
    assert.equal(await ada.page.evaluate(() => document.activeElement.id), 'menu-button')
    // Tab indents inside the editor; Escape leaves it for the next control.
    await ada.page.focus('.cm-content')
    await ada.page.keyboard.press('Escape')
    const focused = await ada.page.evaluate(() => ({ tag: document.activeElement.tagName, inEditor: !!document.activeElement.closest('.cm-editor') }))
    assert.ok(focused.tag !== 'BODY' && !focused.inEditor, `Escape left the focus on ${JSON.stringify(focused)}`)

    // An on-screen keyboard takes half the screen (the page is resized, as
    // interactive-widget=resizes-content asks): the caret's line stays in
    // view and nothing covers it.
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.setViewportSize({ width: 390, height: 420 })
    await ada.page.keyboard.type('typing with the keyboard open', { delay: 2 })
    await ada.page.waitForFunction(() => {
      const r = document.querySelector('.cm-activeLine').getBoundingClientRect()
      const el = document.elementFromPoint(r.left + 20, r.top + r.height / 2)
      return r.bottom <= window.innerHeight && r.top >= 0 && el && el.closest('.cm-content') !== null
    }, null, { timeout: 5000 })
    const pageHeight = await ada.page.evaluate(() => document.querySelector('.editor-page').getBoundingClientRect().bottom)
    assert.ok(pageHeight <= 420, `the page ends at ${pageHeight}px, under the keyboard`)
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})
