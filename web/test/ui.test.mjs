// The wording of the connection indicator: calm, and counting changes, not keystrokes.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statusText, changeCount, viewersText } from '../src/ui.js'

test('statusText says Saved unless edits have waited, and tells the network from the server', () => {
  assert.equal(statusText('connected', { pending: 3, changes: 1, saving: false }).text, 'Saved')
  assert.deepEqual(statusText('connected', { pending: 3, changes: 1, saving: true }), { text: 'Saving…', detail: '1 change waiting to be sent.' })
  assert.equal(statusText('offline', { pending: 105, changes: 2, onLine: false }).text, 'Offline — your changes are kept and will be sent')
  assert.equal(statusText('offline', { pending: 105, changes: 2, onLine: false }).detail, '2 changes waiting to be sent.')
  assert.equal(statusText('offline', { pending: 1, changes: 1, onLine: true }).text, 'Can\'t reach Scribe — retrying, your changes are kept')
  assert.equal(statusText('offline', {}).text, 'Can\'t reach Scribe — retrying') // read-only page
  assert.equal(statusText('connected', {}).text, 'Connected')
  // Kept across the page's close (persist.js): the page says so instead of a "Leave site?" prompt.
  assert.equal(statusText('offline', { pending: 2, changes: 1, onLine: false, kept: true }).detail, '1 change waiting to be sent, kept on this device.')
  assert.equal(statusText('connected', { pending: 2, changes: 2, saving: true, kept: true }).detail, '2 changes waiting to be sent, kept on this device.')
})

test('changeCount counts places, not keystrokes', () => {
  assert.equal(changeCount(null), 0)
  assert.equal(changeCount([10]), 0)
  assert.equal(changeCount([3, 'hello world, typed key by key', 7]), 1)
  assert.equal(changeCount([3, 'ab', -2, 7]), 1) // a replacement is one change
  assert.equal(changeCount(['a', 5, -1, 2, 'b']), 3)
})

test('viewers are counted in words, with thousands separated', () => {
  assert.equal(viewersText(1), '1 viewer')
  assert.equal(viewersText(2), '2 viewers')
  assert.equal(viewersText(4950), '4,950 viewers')
})
