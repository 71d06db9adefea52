import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openedNotes, rememberOpened, MAX_OPENED } from '../src/device.js'

/** A Storage-like map, as localStorage is in the browser. */
function memoryStorage () {
  const m = new Map()
  return /** @type {Storage} */ (/** @type {unknown} */ ({
    getItem: k => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v))
  }))
}

test('notes opened on this device: most recent first, once each, bounded', () => {
  const s = memoryStorage()
  rememberOpened('/n/AAAAAAAAAAAAAAAAAAAAAA', 'Standup', s, 1)
  rememberOpened('/s/BBBBBBBBBBBBBBBBBBBBBB', 'Board review', s, 2)
  rememberOpened('/n/AAAAAAAAAAAAAAAAAAAAAA', 'Standup (renamed)', s, 3)
  assert.deepEqual(openedNotes(s), [
    { path: '/n/AAAAAAAAAAAAAAAAAAAAAA', title: 'Standup (renamed)', at: 3 },
    { path: '/s/BBBBBBBBBBBBBBBBBBBBBB', title: 'Board review', at: 2 }
  ])
  for (let i = 0; i < MAX_OPENED + 10; i++) rememberOpened(`/s/t${i}`, `n${i}`, s, 10 + i)
  assert.equal(openedNotes(s).length, MAX_OPENED)
  assert.equal(openedNotes(s)[0].path, `/s/t${MAX_OPENED + 9}`)
})

test('only note and share paths are kept; bad storage is ignored', () => {
  const s = memoryStorage()
  rememberOpened('https://evil.example/n/x', 'x', s, 1)
  rememberOpened('/n/../api/tokens', 'x', s, 1)
  rememberOpened('javascript:alert(1)', 'x', s, 1)
  assert.deepEqual(openedNotes(s), [])
  s.setItem('scribe.opened', '{not json')
  assert.deepEqual(openedNotes(s), [])
  s.setItem('scribe.opened', JSON.stringify([{ path: '//evil.example', title: 't', at: 1 }, { path: '/s/ok', title: 't', at: 1 }]))
  assert.deepEqual(openedNotes(s).map(e => e.path), ['/s/ok'])
  assert.deepEqual(openedNotes(undefined), [])
})
