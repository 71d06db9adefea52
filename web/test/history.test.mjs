import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RevisionCache, commitLink, playStep, sideBySide, apiError, FoldedError, foldedTarget } from '../src/history.js'

const rev = (n, text) => ({ rev: n, text, at: { rev: n, time: '', since: 0, authors: [], added: 0, removed: 0 } })

test('RevisionCache: least recently used out first, within entries and units', () => {
  const c = new RevisionCache(3, 10)
  c.put(rev(1, 'aaa'))
  c.put(rev(2, 'bbb'))
  c.put(rev(3, 'ccc'))
  assert.ok(c.get(1)) // 1 is now the most recent
  c.put(rev(4, 'd')) // four entries: 2 goes
  assert.deepEqual([...c.map.keys()], [3, 1, 4])
  c.put(rev(5, 'eeeeeeeee')) // 16 units: 3 and 1 go
  assert.deepEqual([...c.map.keys()], [4, 5])
  assert.equal(c.size, 10)
  c.put(rev(6, 'x'.repeat(11))) // larger than the budget on its own: nothing stays
  assert.equal(c.map.size, 0)
  assert.equal(c.size, 0)
})

test('commitLink: only an export name, only with a template', () => {
  const t = 'https://git.example.com/notes/commit/{sha}'
  assert.equal(commitLink('exported as 1a2b3c4d5e6f', t), 'https://git.example.com/notes/commit/1a2b3c4d5e6f')
  assert.equal(commitLink('exported as 1a2b3c4d5e6f', ''), '')
  assert.equal(commitLink('before the vote', t), '')
  assert.equal(commitLink('exported as javascript:x', t), '')
})

test('playStep: a long history plays in a bounded number of frames', () => {
  assert.equal(playStep(0), 1)
  assert.equal(playStep(5), 1)
  assert.equal(playStep(300), 1)
  assert.equal(playStep(301), 2)
  assert.ok(100000 / playStep(100000) <= 300)
})

test('sideBySide: removed runs beside the added runs after them', () => {
  const k = t => ({ op: 'keep', text: t })
  const a = t => ({ op: 'add', text: t })
  const r = t => ({ op: 'remove', text: t })
  assert.deepEqual(sideBySide([k('x'), r('old1'), r('old2'), a('new1'), k('y'), a('only')]), [
    [k('x'), k('x')], [r('old1'), a('new1')], [r('old2'), null], [k('y'), k('y')], [null, a('only')]
  ])
})

test('apiError: a folded revision names its neighbours; other errors their sentence', async () => {
  const gone = new Response(JSON.stringify({ code: 'EGONE', message: 'Revision 5 is no longer kept.', folded: { rev: 5, below: 2, above: 9 } }), { status: 410 })
  const err = await apiError(gone)
  assert.ok(err instanceof FoldedError)
  assert.equal(err.below, 2)
  assert.equal(err.above, 9)
  assert.equal(foldedTarget(err, 5, 2), 9) // stepping forward crosses the step
  assert.equal(foldedTarget(err, 5, 12), 2) // stepping back too
  const missing = await apiError(new Response(JSON.stringify({ code: 'ENOTFOUND', message: 'Note not found.' }), { status: 404 }))
  assert.ok(!(missing instanceof FoldedError))
  assert.equal(missing.message, 'Note not found.')
  const odd = await apiError(new Response('<html>', { status: 410, statusText: 'Gone' }))
  assert.ok(!(odd instanceof FoldedError))
  assert.equal(odd.message, 'The server answered 410 Gone.')
})
