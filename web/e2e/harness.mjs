// Shared set-up for the browser tests: the real `scribe serve` binary on a
// free loopback port with a temporary data directory, and Debian's Chromium
// driven by playwright-core. Nothing is faked: these tests see what a person
// with a browser sees.

import { spawn } from 'node:child_process'
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, '../..')

/** The binary under test: $SCRIBE_BIN, else bin/scribe built by `make build`. */
export const scribeBin = process.env.SCRIBE_BIN || join(repoRoot, 'bin/scribe')

/** Where screenshots go: $SCRIBE_SCREENSHOT_DIR (docs/screenshots to refresh the README's), else a temp dir. */
export async function screenshotDir () {
  const dir = process.env.SCRIBE_SCREENSHOT_DIR || join(tmpdir(), 'scribe-screenshots')
  await mkdir(dir, { recursive: true })
  return dir
}

/** freePort is a loopback TCP port nobody listens on (just now). */
export async function freePort () {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolvePort(port))
    })
  })
}

/**
 * startServer runs `scribe serve` and waits until /healthz answers. In
 * extraArgs, {dataDir} stands for the server's temporary directory.
 * opts.port: the port to listen on (when the URL must be known before, e.g.
 * for a sign-in provider's redirect URI); a free one by default. With
 * opts.dataDir and opts.port (an earlier server's, stopped with keep) it
 * restarts that server: same data, same origin.
 * @returns {Promise<{url: string, port: number, dataDir: string, logs: () => string, stop: (keep?: boolean) => Promise<void>}>}
 */
export async function startServer (extraArgs = [], opts = {}) {
  const dataDir = opts.dataDir || await mkdtemp(join(tmpdir(), 'scribe-e2e-'))
  const port = opts.port || await freePort()
  const url = `http://127.0.0.1:${port}`
  let output = ''
  const args = extraArgs.map(a => a.replaceAll('{dataDir}', dataDir))
  const proc = spawn(scribeBin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', join(dataDir, 'store'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCRIBE_ADDR: '', SCRIBE_DATA_DIR: '' }
  })
  proc.stdout.on('data', d => { output += d })
  proc.stderr.on('data', d => { output += d })
  let exited = null
  proc.on('exit', code => { exited = code })
  const deadline = Date.now() + 30000
  for (;;) {
    if (exited !== null) throw new Error(`scribe serve exited with ${exited}:\n${output}`)
    try {
      const res = await fetch(url + '/healthz')
      if (res.ok) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`scribe serve did not answer /healthz within 30 s:\n${output}`)
    }
    await sleep(100)
  }
  return {
    url,
    port,
    dataDir,
    logs: () => output,
    /** keep: leave the data directory, for a restart */
    stop: async (keep = false) => {
      if (exited === null) {
        const done = new Promise(r => proc.once('exit', r))
        proc.kill('SIGTERM')
        const t = setTimeout(() => proc.kill('SIGKILL'), 10000)
        await done
        clearTimeout(t)
      }
      if (!keep) await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** launchBrowser starts Debian's Chromium headless. */
export async function launchBrowser () {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/**
 * newPerson opens a browser context for one person, with a display name
 * already remembered in localStorage.
 */
export async function newPerson (browser, baseURL, name, options = {}) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1100, height: 720 }, ...options })
  if (name) {
    // As if the person had typed it once: a later rename sticks across reloads.
    await context.addInitScript(n => { try { if (!localStorage.getItem('scribe.name')) localStorage.setItem('scribe.name', n) } catch {} }, name)
  }
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', e => errors.push(String(e)))
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })
  return { context, page, errors }
}

/** api calls the server's JSON API the way a script would. */
export async function api (baseURL, method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const res = await fetch(baseURL + path, init)
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : null
}

/** noteText reads GET /api/notes/{id}/text. */
export async function noteText (baseURL, id) {
  const res = await fetch(`${baseURL}/api/notes/${id}/text`)
  if (!res.ok) throw new Error(`GET text: ${res.status}`)
  return res.text()
}

/** openEditor opens /n/{id} and waits until the first welcome arrived. */
export async function openEditor (page, id) {
  await page.goto(`/n/${id}`)
  await page.waitForSelector('[data-page=editor][data-ready=true]', { timeout: 15000 })
}

/** editorText is the text CodeMirror shows. */
export function editorText (page) {
  return page.evaluate(() => window.scribe.view.state.doc.toString())
}

/** waitSynced waits until the page is connected with no unconfirmed edits. */
export async function waitSynced (page, timeout = 20000) {
  await page.waitForFunction(() => window.scribe && window.scribe.client.status === 'connected' && window.scribe.client.pending === 0, null, { timeout, polling: 50 })
}

export function sleep (ms) {
  return new Promise(r => setTimeout(r, ms))
}

/** countOf counts the non-overlapping occurrences of needle in s. */
export function countOf (s, needle) {
  return s.split(needle).length - 1
}
