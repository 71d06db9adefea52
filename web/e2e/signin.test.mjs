// Sign-in in a real browser: bin/scribe with --auth oidc against a real
// OpenID Provider (zitadel's example provider, auth/authtest/testop, built
// here with `go build`). A member signs in through the provider's login
// form, sees the team's notes, manages a token and signs out; an email
// outside the allowed domains is refused with a clear page; a guest with
// an edit link is asked for a name; axe-core checks the signed-in home page.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startServer, launchBrowser, freePort, repoRoot } from './harness.mjs'

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
let srv, browser, op, work

/** startProvider builds and starts testop, and reads its issuer line. */
async function startProvider (redirect) {
  const bin = join(work, 'testop')
  await promisify(execFile)('go', ['build', '-o', bin, './auth/authtest/testop'], { cwd: repoRoot })
  const proc = spawn(bin, ['-redirect', redirect], { stdio: ['pipe', 'pipe', 'inherit'] })
  const line = await new Promise((resolve, reject) => {
    let out = ''
    proc.stdout.on('data', d => {
      out += d
      if (out.includes('\n')) resolve(out.split('\n')[0])
    })
    proc.on('exit', code => reject(new Error(`testop exited with ${code}`)))
  })
  return { ...JSON.parse(line), proc }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'scribe-signin-'))
  const port = await freePort()
  const publicURL = `http://127.0.0.1:${port}`
  op = await startProvider(publicURL + '/auth/callback')
  const secretFile = join(work, 'client-secret')
  await writeFile(secretFile, op.clientSecret + '\n', { mode: 0o600 })
  srv = await startServer(['--auth', 'oidc', '--public-url', publicURL, '--oidc-issuer', op.issuer,
    '--oidc-client-id', op.clientId, '--oidc-client-secret-file', secretFile, '--oidc-allowed-domains', 'example.com'], { port })
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await srv?.stop()
  op?.proc.kill('SIGTERM')
  if (work) await rm(work, { recursive: true, force: true })
})

/** signIn fills in the provider's login form (the page is on it). */
async function fillLogin (page, user) {
  await page.waitForSelector('#username')
  await page.fill('#username', user)
  await page.fill('#password', `pw-${user}`)
  await page.click('button[type=submit]')
}

test('a member signs in, sees the team\'s notes, makes a token and signs out; a guest is asked for a name', async () => {
  const ctx = await browser.newContext({ baseURL: srv.url, bypassCSP: true }) // for axe-core's script tag
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', e => errors.push(String(e)))
  try {
    // A stranger: no team list, no create form, a sign-in link.
    await page.goto('/')
    await page.waitForSelector('[data-page=home][data-ready=true]')
    assert.equal(await page.locator('#create-form').count(), 0)
    assert.equal(await page.locator('#note-list').count(), 0)
    await page.click('#sign-in')
    await fillLogin(page, 'ada')
    await page.waitForSelector('#sign-out')
    assert.match(await page.textContent('#me'), /Ada Lovelace <ada@example\.com>/)

    // Signed in: create a note; it is in the team's list.
    await page.fill('#note-title', 'Signed-in sync')
    await page.click('#create-button')
    await page.waitForSelector('[data-page=editor][data-ready=true]')
    const noteURL = page.url()
    // The name is fixed from sign-in.
    assert.equal(await page.inputValue('#display-name'), 'Ada Lovelace')
    assert.equal(await page.getAttribute('#display-name', 'readonly'), '')
    // Guest editing on, from the toolbar.
    await page.check('#guest-edit')
    await page.waitForSelector('#notice[data-kind=success]')
    await page.goto('/')
    await page.waitForSelector('#note-list a:text-is("Signed-in sync")')

    // axe-core on the signed-in home page.
    await page.addScriptTag({ path: axePath })
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] })
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => `${v.impact} ${v.id}: ${v.help}`)
    })
    assert.deepEqual(violations, [])

    // A token: created (secret shown once with a copy button), listed, revoked.
    await page.fill('#token-label', 'standup bot')
    await page.click('#token-create')
    const secret = await page.inputValue('#token-secret-value')
    assert.match(secret, /^scribe_/)
    await page.waitForSelector('#token-list .token-label:text-is("standup bot")')
    const me = await fetch(srv.url + '/api/me', { headers: { Authorization: `Bearer ${secret}` } }).then(r => r.json())
    assert.equal(me.email, 'ada@example.com')
    await page.click('#token-list .revoke-button')
    await page.waitForSelector('#token-list li.empty')
    assert.equal((await fetch(srv.url + '/api/me', { headers: { Authorization: `Bearer ${secret}` } }).then(r => r.json())).role, 'stranger')

    // A guest with the edit link: asked for a name, once; the note is then
    // among the notes opened on this device.
    const guestCtx = await browser.newContext({ baseURL: srv.url })
    const guest = await guestCtx.newPage()
    await guest.goto(noteURL)
    await guest.waitForSelector('#name-dialog[open]')
    await guest.fill('#name-dialog-input', 'Zed')
    await guest.press('#name-dialog-input', 'Enter')
    await guest.waitForSelector('.presence-name:text-is("Zed (you)")')
    await guest.reload()
    await guest.waitForSelector('[data-page=editor][data-ready=true]')
    assert.equal(await guest.locator('#name-dialog[open]').count(), 0)
    assert.equal(await guest.locator('#export-button, #share-button').count(), 0)
    await guest.goto('/')
    await guest.waitForSelector('#device-notes a:text-is("Signed-in sync")')
    assert.equal(await guest.locator('#create-form').count(), 0)
    await guestCtx.close()

    // Sign out: a stranger again.
    await page.click('#sign-out')
    await page.waitForSelector('#sign-in')
    assert.equal(await page.locator('#note-list').count(), 0)
    assert.deepEqual(errors, [])
  } finally {
    await ctx.close()
  }
})

test('an email outside the allowed domains is refused with a page that says why', async () => {
  const ctx = await browser.newContext({ baseURL: srv.url })
  const page = await ctx.newPage()
  try {
    await page.goto('/auth/login?next=/')
    await fillLogin(page, 'eve')
    await page.waitForLoadState()
    const text = await page.textContent('body')
    assert.match(text, /eve@elsewhere\.example/)
    assert.ok(!(await ctx.cookies()).some(c => c.name === 'scribe_session'), 'a refused sign-in made a session')
    const me = await page.evaluate(() => fetch('/api/me').then(r => r.json()))
    assert.equal(me.role, 'stranger')
  } finally {
    await ctx.close()
  }
})
