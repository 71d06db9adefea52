// Browser test of "Show authors": two people type, one turns the toggle
// on, and every character is tinted with its author's colour (the one of
// their cursor and their dot in the list), live as the other keeps typing,
// with a legend of both names; the choice survives a reload.
// Real Chromium, real `scribe serve`; see harness.mjs.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newPerson, api, openEditor, waitSynced } from './harness.mjs'

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

/** The text each author's marks hold, by key, and their background colours. */
function marks (page) {
  return page.evaluate(() => {
    /** @type {Record<string, {text: string, colors: string[]}>} */
    const out = {}
    for (const el of document.querySelectorAll('.cm-author')) {
      const k = el.getAttribute('data-author')
      out[k] = out[k] || { text: '', colors: [] }
      out[k].text += el.textContent
      const c = getComputedStyle(el).backgroundColor
      if (!out[k].colors.includes(c)) out[k].colors.push(c)
    }
    return out
  })
}

/** The rgba() an author's colour tints text with (authors.js TINT). */
function tint (hex) {
  const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16))
  return `rgba(${r}, ${g}, ${b}, 0.28)`
}

test('two people type; Show authors colours each one\'s characters, live, with a legend', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Who wrote what', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const grace = await newPerson(browser, srv.url, 'Grace')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(grace.page, note.id)
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await grace.page.click('.cm-content')
    await grace.page.keyboard.press('Control+Home')
    await Promise.all([
      ada.page.keyboard.type('Ada: the budget is approved.\n', { delay: 10 }),
      grace.page.keyboard.type('Grace: 中文 and 😀.\n', { delay: 10 })
    ])
    await waitSynced(ada.page)
    await waitSynced(grace.page)
    await ada.page.waitForFunction(() => window.scribe.view.state.doc.toString().includes('Grace: 中文 and 😀.\n'))

    assert.equal(await ada.page.getAttribute('#authors-button', 'aria-pressed'), 'false')
    assert.equal(await ada.page.locator('.cm-author').count(), 0, 'authors shown before the toggle')
    await ada.page.click('#authors-button')
    assert.equal(await ada.page.getAttribute('#authors-button', 'aria-pressed'), 'true')
    await ada.page.waitForSelector('.cm-author[data-author="n:grace"]')
    await ada.page.waitForSelector('#authors-legend .legend-item[data-author="n:ada"]')
    const legend = await ada.page.locator('#authors-legend .legend-item').allTextContents()
    assert.deepEqual(legend.sort(), ['Ada (you)', 'Grace'])

    const m = await marks(ada.page)
    assert.equal(m['n:ada'].text, 'Ada: the budget is approved.\n'.replace('\n', ''), 'Ada\'s characters')
    assert.equal(m['n:grace'].text, 'Grace: 中文 and 😀.', 'Grace\'s characters')
    // The template ("# Who wrote what") is nobody's: not marked.
    const colorOf = name => ada.page.locator(`.presence-item:has(.presence-name:text-is("${name}"))`).getAttribute('data-color')
    const [adaColor, graceColor] = [await colorOf('Ada (you)'), await colorOf('Grace')]
    assert.notEqual(adaColor, graceColor)
    assert.deepEqual(m['n:ada'].colors, [tint(adaColor)], 'Ada\'s text is not in her colour')
    assert.deepEqual(m['n:grace'].colors, [tint(graceColor)], 'Grace\'s text is not in her colour')

    // Live: what Grace types now is hers on Ada's page at once.
    await grace.page.keyboard.type('More from Grace. ', { delay: 10 })
    await ada.page.waitForFunction(() => [...document.querySelectorAll('.cm-author[data-author="n:grace"]')].map(e => e.textContent).join('').includes('More from Grace.'))
    // And what Ada types is hers.
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('Ada again.')
    await ada.page.waitForFunction(() => [...document.querySelectorAll('.cm-author[data-author="n:ada"]')].map(e => e.textContent).join('').includes('Ada again.'))

    // The choice is remembered on this device; after a reload the server's
    // authorship paints the same.
    await waitSynced(ada.page)
    await ada.page.reload()
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    assert.equal(await ada.page.getAttribute('#authors-button', 'aria-pressed'), 'true')
    await ada.page.waitForFunction(() => [...document.querySelectorAll('.cm-author[data-author="n:grace"]')].map(e => e.textContent).join('').includes('More from Grace.'))
    const again = await marks(ada.page)
    assert.ok(again['n:ada'].text.includes('Ada again.') && again['n:ada'].text.includes('Ada: the budget'), `after a reload, Ada's: ${again['n:ada'].text}`)
    // The history page colours a revision the same way (the toggle is
    // this device's, so it is on there too).
    await ada.page.goto(`/n/${note.id}/history`)
    await ada.page.waitForSelector('#rev-text .author-run[data-author="n:grace"]')
    assert.equal(await ada.page.getAttribute('#authors-button', 'aria-pressed'), 'true')
    const hist = await ada.page.evaluate(() => [...document.querySelectorAll('#rev-text .author-run')].map(e => [e.getAttribute('data-author'), e.textContent, getComputedStyle(e).backgroundColor]))
    assert.ok(hist.some(([k, t, c]) => k === 'n:grace' && t.includes('Grace: 中文') && c === tint(graceColor)), JSON.stringify(hist))
    assert.deepEqual((await ada.page.locator('#rev-authors .legend-item').allTextContents()).sort(), ['Ada', 'Grace'])
    await ada.page.click('#authors-button')
    assert.equal(await ada.page.locator('#rev-text .author-run').count(), 0, 'authors still shown after the toggle went off')
    assert.deepEqual(ada.errors, [])
    assert.deepEqual(grace.errors, [])
  } finally {
    await ada.context.close()
    await grace.context.close()
  }
})
