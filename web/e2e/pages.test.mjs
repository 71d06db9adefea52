// Browser tests of the home page (templates) and the read-only page (live
// updates, no editing, revocation). Real Chromium, real `scribe serve`.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import {
  startServer, launchBrowser, newPerson, api, noteText, openEditor, editorText,
  waitSynced, screenshotDir, sleep, countOf
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

test('creating a note from the meeting template fills it in', async () => {
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await ada.page.goto('/')
    await ada.page.waitForSelector('[data-page=home][data-ready=true]')
    // Every template is offered.
    for (const label of ['Blank', 'Meeting', 'Stand-up', 'Retrospective']) {
      assert.ok(await ada.page.isVisible(`.template-label:text-is("${label}")`), `no ${label} template`)
    }
    await ada.page.fill('#note-title', 'Platform weekly <sync>')
    await ada.page.check('input[name=template][value=meeting]')
    const startedAt = new Date()
    await ada.page.click('#create-button')
    await ada.page.waitForURL(/\/n\/[A-Za-z0-9_-]{22}$/)
    await ada.page.waitForSelector('[data-page=editor][data-ready=true]')
    const id = ada.page.url().split('/n/')[1]
    const text = await editorText(ada.page)
    assert.ok(text.startsWith('# Platform weekly <sync>\n'), text)
    const today = startedAt.toISOString().slice(0, 10)
    assert.match(text, new RegExp(`\\*\\*Date:\\*\\* ${today} \\d\\d:\\d\\d \\(UTC\\)`))
    for (const h of ['## Attendees', '## Agenda', '## Notes', '## Decisions', '## Action items', '- [ ] ']) {
      assert.ok(text.includes(h), `no "${h}" in ${JSON.stringify(text)}`)
    }
    assert.equal(text, await noteText(srv.url, id))
    assert.equal(await ada.page.textContent('#note-title'), 'Platform weekly <sync>')
    // The caret waits in the first empty field, the attendee list: typing goes there.
    await ada.page.keyboard.type('Ada')
    assert.ok((await editorText(ada.page)).includes('## Attendees\n\n- Ada\n'), await editorText(ada.page))
    await waitSynced(ada.page)

    // The home page lists it, most recent first, with its edit time (in
    // words once the page's script has run).
    await ada.page.goto('/')
    await ada.page.waitForSelector('[data-page=home][data-ready=true]')
    const first = ada.page.locator('#note-list li').first()
    assert.equal(await first.locator('a.note-link').textContent(), 'Platform weekly <sync>')
    assert.match(await first.locator('time').textContent(), /just now|minute/)
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('the read-only page updates live, ignores typing, and stops when revoked', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'All hands', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const viewer = await newPerson(browser, srv.url, 'Stakeholder')
  try {
    await openEditor(ada.page, note.id)
    // Ada makes a read-only link with the toolbar.
    await ada.page.click('#share-button')
    const link = await ada.page.inputValue('#share-url', { timeout: 10000 })
    assert.match(link, /\/s\/[A-Za-z0-9_-]{22}$/)
    const token = link.split('/s/')[1]

    const res = await viewer.page.goto(link)
    const html = await res.text()
    assert.ok(!html.includes(note.id), 'the read-only page contains the note id')
    assert.equal(await viewer.page.textContent('#rendered h1'), 'All hands', 'first paint renders the note')
    await viewer.page.waitForSelector('[data-page=readonly][data-ready=true]')
    await viewer.page.waitForSelector('#conn-status[data-state=connected]')

    // Live: Ada types, the viewer sees it rendered.
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('## Live from the meeting\n\nWe agreed on **Friday**, see [the plan](https://example.com/plan) and [this](javascript:window.pwned=2). <script>window.pwned=1</script>\n\n| Team | Owner |\n|---|---|\n| Web | Ada |\n\n- [x] Budget approved', { delay: 3 })
    await waitSynced(ada.page)
    await viewer.page.waitForSelector('#rendered h2:text-is("Live from the meeting")', { timeout: 10000 })
    assert.equal(await viewer.page.textContent('#rendered strong:text-is("Friday")'), 'Friday')
    assert.equal(await viewer.page.evaluate(() => window.pwned), undefined, 'raw HTML ran in the read-only page')
    assert.equal(await viewer.page.locator('#rendered script').count(), 0)
    assert.equal(await viewer.page.getAttribute('#rendered a:text-is("the plan")', 'href'), 'https://example.com/plan')
    assert.equal(await viewer.page.locator('#rendered a:text-is("this")').count(), 0, 'a javascript: link was rendered as a link')
    await viewer.page.waitForSelector('#rendered td:text-is("Ada")')
    await viewer.page.waitForSelector('#rendered input[type=checkbox][checked][disabled]')
    // Ada sees the viewer counted below the people, not listed by name.
    await ada.page.waitForSelector('.presence-viewers[data-viewers="1"]', { timeout: 10000 })
    assert.equal(await ada.page.textContent('.presence-viewers'), '1 viewer')
    assert.equal(await ada.page.locator('.presence-item:has-text("Stakeholder")').count(), 0, 'a viewer was listed by name')

    await viewer.page.evaluate(() => window.scrollTo(0, 0))
    await viewer.page.screenshot({ path: join(await screenshotDir(), 'readonly.png') })

    // Typing on the read-only page changes nothing.
    const before = await noteText(srv.url, note.id)
    await viewer.page.click('#rendered')
    await viewer.page.keyboard.type('zzz')
    await viewer.page.keyboard.press('Enter')
    await sleep(300)
    assert.equal(await noteText(srv.url, note.id), before)
    assert.ok(!(await viewer.page.textContent('#rendered')).includes('zzz'))

    // Ada lists the links and revokes this one.
    await ada.page.click('#links-button')
    const row = ada.page.locator(`#links-list li[data-token="${token}"]`)
    await row.waitFor()
    await row.locator('.revoke-button').click()
    await ada.page.waitForSelector(`#links-list li.empty, #links-list:not(:has(li[data-token="${token}"]))`)

    // The viewer is told why, and stops updating.
    await viewer.page.waitForSelector('[data-page=readonly][data-gone=true]', { timeout: 15000 })
    const notice = await viewer.page.textContent('#notice')
    assert.match(notice, /revoked|no longer/i, notice)
    await ada.page.keyboard.type('\n\nAfter revocation.', { delay: 5 })
    await waitSynced(ada.page)
    await sleep(500)
    assert.ok(!(await viewer.page.textContent('#rendered')).includes('After revocation'))
    const gone = await fetch(link)
    assert.equal(gone.status, 404, 'the revoked link still opens')
    assert.deepEqual(viewer.errors.filter(e => !/404|WebSocket/.test(e)), [])
  } finally {
    await ada.context.close()
    await viewer.context.close()
  }
})

test('export from the toolbar commits the note to the repository; download gives the .md', async () => {
  const exportSrv = await startServer(['--export-repo', '{dataDir}/repo'])
  const ada = await newPerson(browser, exportSrv.url, 'Ada Lovelace', { acceptDownloads: true })
  try {
    const note = await api(exportSrv.url, 'POST', '/api/notes', { title: 'Release review', template: 'meeting' })
    await openEditor(ada.page, note.id)
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('Ship on Thursday ✅', { delay: 5 })
    await waitSynced(ada.page)

    await exportThroughDialog(ada.page)
    const result = ada.page.locator('#export-result')
    await result.waitFor({ state: 'attached', timeout: 30000 })
    const path = await result.getAttribute('data-path')
    const commit = await result.getAttribute('data-commit')
    const notice = await ada.page.textContent('#notice')
    assert.ok(path && notice.includes(path), `the notice does not show the path: ${notice}`)
    assert.ok(commit && notice.includes(commit.slice(0, 12)), `the notice does not show the commit: ${notice}`)
    assert.equal(await ada.page.getAttribute('#notice', 'data-kind'), 'success')

    // The real git binary reads what export wrote.
    const repo = join(exportSrv.dataDir, 'repo')
    const head = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    assert.equal(head, commit)
    const file = execFileSync('git', ['-C', repo, 'show', `HEAD:${path}`], { encoding: 'utf8' })
    assert.ok(file.includes('Ship on Thursday ✅'), file)
    const author = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%an'], { encoding: 'utf8' }).trim()
    assert.match(author + execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B'], { encoding: 'utf8' }), /Ada Lovelace/)

    // Exporting again with no edit in between offers nothing to commit and says so.
    await ada.page.click('#notice .notice-close')
    await ada.page.click('#export-button')
    await ada.page.waitForSelector('#export-preview:not([hidden])', { timeout: 30000 })
    assert.equal(await ada.page.textContent('#export-preview-status'), `Nothing changed since the last export (commit ${commit.slice(0, 12)}): there is nothing to commit.`)
    assert.ok(await ada.page.isDisabled('#export-commit'))
    await ada.page.click('#export-cancel')
    assert.equal(execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), commit)

    await ada.page.click('#download-menu summary')
    const [download] = await Promise.all([ada.page.waitForEvent('download'), ada.page.click('#download-link')])
    assert.match(download.suggestedFilename(), /\.md$/)
    const dl = await download.path()
    const { readFile } = await import('node:fs/promises')
    assert.equal(await readFile(dl, 'utf8'), await noteText(exportSrv.url, note.id))
    // The menu closed; it offers the rendered page too.
    assert.equal(await ada.page.getAttribute('#download-menu', 'open'), null)
    await ada.page.click('#download-menu summary')
    const [page] = await Promise.all([ada.page.waitForEvent('download'), ada.page.click('#download-html')])
    assert.match(page.suggestedFilename(), /\.html$/)
    const html = await readFile(await page.path(), 'utf8')
    assert.match(html, /<h1[^>]*>Release review<\/h1>/)
    assert.ok(html.includes('Ship on Thursday ✅'))
  } finally {
    await ada.context.close()
    await exportSrv.stop()
  }
})

test('an export whose push fails is committed and shown as a warning, saying why once', async () => {
  // A remote that does not exist: the commit succeeds, the push cannot.
  const exportSrv = await startServer(['--export-repo', '{dataDir}/repo', '--export-remote', '{dataDir}/no-such-remote.git'])
  const ada = await newPerson(browser, exportSrv.url, 'Ada Lovelace')
  try {
    const note = await api(exportSrv.url, 'POST', '/api/notes', { title: 'Offsite plan', template: 'blank' })
    // A note still equal to its template is refused (no junk commits): write something.
    await api(exportSrv.url, 'POST', `/api/notes/${note.id}/append`, { text: '## Decisions\n- Meet in Lisbon' })
    await openEditor(ada.page, note.id)
    await exportThroughDialog(ada.page)
    await ada.page.waitForSelector('#notice:not([hidden]) #export-result', { state: 'attached', timeout: 30000 })
    assert.equal(await ada.page.getAttribute('#notice', 'data-kind'), 'warning')
    assert.equal(await ada.page.getAttribute('#notice', 'role'), 'alert')
    const path = await ada.page.getAttribute('#export-result', 'data-path')
    const commit = await ada.page.getAttribute('#export-result', 'data-commit')
    const head = await ada.page.textContent('#notice .notice-text')
    assert.equal(head, `Exported to ${path} in commit ${commit.slice(0, 12)}.`)
    const detail = await ada.page.textContent('#export-result')
    assert.match(detail, /^The export is committed locally but was not pushed .*: .+\./, detail)
    const notice = await ada.page.textContent('#notice')
    assert.equal(countOf(notice, 'committed locally'), 1, `the push failure is told more than once: ${notice}`)
    // The notice is amber, not the success green.
    const border = await ada.page.evaluate(() => getComputedStyle(document.getElementById('notice')).borderTopColor)
    assert.equal(border, 'rgb(230, 119, 0)')
    await ada.page.screenshot({ path: join(await screenshotDir(), 'export-push-failed.png') })
    // The commit is there all the same.
    const repo = join(exportSrv.dataDir, 'repo')
    assert.equal(execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), commit)
    assert.ok(execFileSync('git', ['-C', repo, 'show', `HEAD:${path}`], { encoding: 'utf8' }).includes('# Offsite plan'))
  } finally {
    await ada.context.close()
    await exportSrv.stop()
  }
})

/**
 * exportThroughDialog presses Export, waits for the preview and commits it.
 * @returns {Promise<{path: string, content: string, message: string}>} what was previewed
 */
async function exportThroughDialog (page) {
  await page.click('#export-button')
  await page.waitForSelector('#export-commit:not([disabled])', { timeout: 30000 })
  const previewed = {
    path: await page.textContent('#export-preview-path'),
    content: await page.textContent('#export-preview-content'),
    message: await page.textContent('#export-preview-message')
  }
  await page.click('#export-commit')
  await page.waitForSelector('#export-dialog', { state: 'hidden', timeout: 30000 })
  return previewed
}

/** gitHead is the export branch's commit, or '' before the first export. */
function gitHead (repo) {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '--verify', '-q', 'refs/heads/main'], { encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}

test('export: preview then cancel writes nothing; a commit is of the preview; two browsers see the export and when the note changes', async () => {
  const commitURL = 'https://git.example.com/team/notes/commit/{sha}'
  const exportSrv = await startServer(['--export-repo', '{dataDir}/repo', '--export-commit-url', commitURL])
  const repo = join(exportSrv.dataDir, 'repo')
  const ada = await newPerson(browser, exportSrv.url, 'Ada Lovelace')
  const viewer = await newPerson(browser, exportSrv.url, 'Viewer')
  try {
    const note = await api(exportSrv.url, 'POST', '/api/notes', { title: 'Sprint review', template: 'blank' })
    const share = await api(exportSrv.url, 'POST', `/api/notes/${note.id}/shares`, {})
    await openEditor(ada.page, note.id)
    await viewer.page.goto(`/s/${share.token}`)
    await viewer.page.waitForSelector('[data-page=readonly][data-ready=true]')
    assert.ok(await ada.page.isHidden('#export-status'), 'a note never exported shows an export')
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('\n## Decisions\n- Demo on Friday', { delay: 5 })
    await waitSynced(ada.page)

    // Preview, then Cancel: the dialog showed the file and the message, and nothing is committed.
    await ada.page.click('#export-button')
    await ada.page.waitForSelector('#export-commit:not([disabled])', { timeout: 30000 })
    assert.match(await ada.page.textContent('#export-preview-path'), /^docs\/meetings\/\d{4}-\d\d-\d\d-sprint-review\.md$/)
    assert.match(await ada.page.textContent('#export-preview-message'), /^Meeting notes: Sprint review \(/)
    assert.ok((await ada.page.textContent('#export-preview-content')).includes('- Demo on Friday'))
    await ada.page.click('#export-cancel')
    await ada.page.waitForSelector('#export-dialog', { state: 'hidden' })
    assert.equal(gitHead(repo), '', 'a cancelled preview committed')

    // Someone edits between the preview and Commit: refused, and a fresh preview is offered.
    await ada.page.click('#export-button')
    await ada.page.waitForSelector('#export-commit:not([disabled])', { timeout: 30000 })
    await api(exportSrv.url, 'POST', `/api/notes/${note.id}/append`, { text: '- Retro next week\n' })
    await ada.page.click('#export-commit')
    await ada.page.waitForSelector('#export-refresh:not([hidden])', { timeout: 30000 })
    assert.match(await ada.page.textContent('#export-preview-status'), /changed since your preview/)
    assert.equal(gitHead(repo), '', 'a stale preview was committed')
    await ada.page.click('#export-refresh')
    await ada.page.waitForSelector('#export-commit:not([disabled])', { timeout: 30000 })
    const content = await ada.page.textContent('#export-preview-content')
    const message = await ada.page.textContent('#export-preview-message')
    const path = await ada.page.textContent('#export-preview-path')
    assert.ok(content.includes('- Retro next week'))
    await ada.page.click('#export-commit')
    await ada.page.waitForSelector('#export-dialog', { state: 'hidden', timeout: 30000 })

    // Exactly what was previewed is committed.
    const commit = gitHead(repo)
    assert.equal(execFileSync('git', ['-C', repo, 'show', `${commit}:${path}`], { encoding: 'utf8' }), content)
    assert.equal(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B', commit], { encoding: 'utf8' }), message + '\n')

    // Both browsers, the editor and the read-only viewer, see who exported it as which commit, a link.
    for (const p of [ada.page, viewer.page]) {
      await p.waitForSelector(`#export-status[data-commit="${commit}"]:not([hidden])`, { timeout: 20000 })
      const text = await p.textContent('#export-status')
      assert.match(text, new RegExp(`^Exported by \\S.* as ${commit.slice(0, 12)} at \\d\\d:\\d\\d\\b.*\\. Unchanged since this export$`), text)
      assert.equal(await p.getAttribute('#export-status a.export-commit', 'href'), commitURL.replace('{sha}', commit))
      assert.equal(await p.getAttribute('#export-status', 'data-changed'), 'false')
    }
    await ada.page.screenshot({ path: join(await screenshotDir(), 'export-seen.png') })

    // Ada types: both see that the note changed since its export.
    await ada.page.click('.cm-content')
    await ada.page.keyboard.press('Control+End')
    await ada.page.keyboard.type('!', { delay: 5 })
    for (const p of [ada.page, viewer.page]) {
      await p.waitForSelector('#export-status[data-changed=true]', { timeout: 20000 })
      assert.match(await p.textContent('#export-status .export-changed'), /Changed since this export/)
    }

    // A browser that opens the note later sees the last export too.
    const late = await newPerson(browser, exportSrv.url, 'Late')
    try {
      await late.page.goto(`/s/${share.token}`)
      await late.page.waitForSelector(`#export-status[data-commit="${commit}"][data-changed=true]:not([hidden])`, { timeout: 20000 })
    } finally {
      await late.context.close()
    }
    // The refused commit's 409 is the only error the pages logged.
    assert.deepEqual([...ada.errors, ...viewer.errors].filter(e => !e.includes('409')), [])
  } finally {
    await ada.context.close()
    await viewer.context.close()
    await exportSrv.stop()
  }
})

test('the search box finds a note as one types, the match highlighted, by keyboard', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Quarterly planning', template: 'blank' })
  await api(srv.url, 'POST', `/api/notes/${note.id}/append`, { text: 'We picked the zanzibar option.\n' })
  // The index follows the store within about a second: wait for it, not a fixed time.
  const deadline = Date.now() + 10000
  while (!(await api(srv.url, 'GET', '/api/search?q=zanzibar')).hits.some(h => h.id === note.id)) {
    assert.ok(Date.now() < deadline, 'the appended line was not findable within 10 s')
    await sleep(100)
  }
  const ada = await newPerson(browser, srv.url, 'Ada')
  try {
    await ada.page.goto('/')
    await ada.page.waitForSelector('[data-page=home][data-ready=true]')
    await ada.page.focus('#search-input')
    await ada.page.keyboard.type('zanzi', { delay: 30 }) // a prefix, as while typing
    const hit = ada.page.locator('#search-results li', { has: ada.page.locator('a:text-is("Quarterly planning")') })
    await hit.waitFor({ timeout: 10000 })
    assert.equal(await hit.locator('.snippet mark').first().textContent(), 'zanzibar')
    assert.match(await ada.page.textContent('#search-status'), /1 note matches/)
    // ↓ moves into the results; Enter opens the note.
    await ada.page.keyboard.press('ArrowDown')
    assert.equal(await ada.page.evaluate(() => document.activeElement && document.activeElement.textContent), 'Quarterly planning')
    await ada.page.keyboard.press('Enter')
    await ada.page.waitForURL(new RegExp(`/n/${note.id}$`))
    assert.deepEqual(ada.errors, [])
  } finally {
    await ada.context.close()
  }
})

test('editing the first heading renames the note in another browser, live', async () => {
  const note = await api(srv.url, 'POST', '/api/notes', { title: 'Old name', template: 'blank' })
  const ada = await newPerson(browser, srv.url, 'Ada')
  const bob = await newPerson(browser, srv.url, 'Bob')
  try {
    await openEditor(ada.page, note.id)
    await openEditor(bob.page, note.id)
    assert.equal(await bob.page.textContent('#note-title'), 'Old name')
    await ada.page.evaluate(() => {
      const v = window.scribe.view
      const text = v.state.doc.toString()
      const at = text.indexOf('Old')
      v.dispatch({ changes: { from: at, to: at + 3, insert: 'New' } })
    })
    await bob.page.waitForFunction(() => document.getElementById('note-title').textContent === 'New name', null, { timeout: 10000 })
    assert.match(await bob.page.title(), /^New name/)
    await ada.page.waitForFunction(() => document.title.startsWith('New name'), null, { timeout: 10000 })
    // The store gets the title within a second of the typing (one write a second at most).
    const deadline = Date.now() + 10000
    while ((await api(srv.url, 'GET', `/api/notes/${note.id}`)).title !== 'New name') {
      assert.ok(Date.now() < deadline, 'GET /api/notes/{id} did not show the new title within 10 s')
      await sleep(100)
    }
    assert.deepEqual(ada.errors, [])
    assert.deepEqual(bob.errors, [])
  } finally {
    await ada.context.close()
    await bob.context.close()
  }
})
