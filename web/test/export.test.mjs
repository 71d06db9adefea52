import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exportNotice } from '../src/editor.js'

const commit = '0123456789abcdef0123456789abcdef01234567'
const path = 'docs/meetings/2026-11-24-release-review.md'
const pushError = 'The export is committed locally but was not pushed to /srv/none: repository not found. The next export will push it again.'

test('export notice: a new commit, pushed or kept local, is a success with path and commit', () => {
  assert.deepEqual(exportNotice({ path, commit, unchanged: false, pushed: false }),
    { kind: 'success', text: `Exported to ${path} in commit 0123456789ab.`, detail: '', path, commit })
  assert.equal(exportNotice({ path, commit, pushed: true }).text, `Exported to ${path} in commit 0123456789ab. Pushed to the remote.`)
})

test('export notice: a failed push is a warning that shows the server\'s pushError once, as-is', () => {
  const n = exportNotice({ path, commit, unchanged: false, pushed: false, pushError })
  assert.equal(n.kind, 'warning')
  assert.equal(n.text, `Exported to ${path} in commit 0123456789ab.`)
  assert.equal(n.detail, pushError)
  assert.equal((n.text + ' ' + n.detail).split('committed locally').length - 1, 1, 'the push failure is told twice')
  assert.ok(!/success|pushed to the remote\./i.test(n.text), n.text)
})

test('export notice: nothing changed says so, with the commit', () => {
  const n = exportNotice({ path, commit, unchanged: true, pushed: true })
  assert.deepEqual(n, { kind: 'success', text: 'Nothing changed since the last export (commit 0123456789ab).', detail: '', path, commit })
  const w = exportNotice({ path, commit, unchanged: true, pushed: false, pushError })
  assert.equal(w.kind, 'warning')
  assert.equal(w.text, 'Nothing changed since the last export (commit 0123456789ab).')
  assert.equal(w.detail, pushError)
})

test('export notice: a sparse or odd answer still reads well', () => {
  assert.equal(exportNotice(null).text, 'Exported.')
  assert.equal(exportNotice({ unchanged: true }).text, 'Nothing changed since the last export.')
  assert.equal(exportNotice({ path: 42, commit: {}, pushError: '  ' }).kind, 'success')
})

test('commit links: {sha} replaced, only http(s), only a hex commit', async () => {
  const { commitLink } = await import('../src/exported.js')
  assert.equal(commitLink('https://git.example.com/team/notes/commit/{sha}', commit), `https://git.example.com/team/notes/commit/${commit}`)
  assert.equal(commitLink('', commit), '')
  assert.equal(commitLink('javascript:alert({sha})', commit), '')
  assert.equal(commitLink('https://x.example/{sha}', '"><script>'), '')
})

test('the export\'s time: the hour today, the date and hour another day', async () => {
  const { exportWhen } = await import('../src/exported.js')
  const t = new Date(2026, 11, 4, 14, 5)
  assert.match(exportWhen(t.toISOString(), new Date(2026, 11, 4, 18, 0)), /^at \d\d:\d\d/)
  assert.match(exportWhen(t.toISOString(), new Date(2026, 11, 5, 9, 0)), /^on .*2026 at \d\d:\d\d/)
  assert.equal(exportWhen('not a time'), '')
})

test('the client keeps the latest export and says whether the note changed since', async () => {
  const { CollabClient } = await import('../src/collab.js')
  const sent = []
  const c = new CollabClient({ session: 'sessionA1', name: 'Ada', callbacks: { send: m => sent.push(m) } })
  c.connected()
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_1', rev: 5, text: 'abc', lastSeq: 0, peers: [], limits: {}, export: { by: 'Ana', commit, time: '2026-12-04T14:05:00Z', rev: 5 } }])
  assert.deepEqual(c.lastExport, { by: 'Ana', commit, time: '2026-12-04T14:05:00Z', rev: 5 })
  assert.equal(c.changedSinceExport(), false)
  c.receive([{ type: 'op', rev: 6, op: [3, 'd'], client: 'c_2' }])
  assert.equal(c.changedSinceExport(), true)
  c.receive([{ type: 'exported', export: { by: 'Bo', commit: 'fedcba987654', time: '2026-12-04T14:10:00Z', rev: 6 } }])
  assert.equal(c.lastExport && c.lastExport.by, 'Bo')
  assert.equal(c.changedSinceExport(), false)
  c.receive([{ type: 'exported', export: { by: 'Mallory' } }]) // no commit: ignored
  assert.equal(c.lastExport && c.lastExport.by, 'Bo')
})
