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
