// Who wrote what in the browser (src/authors.js): the vectors shared with
// the Go package authorship (authorship/testdata/vectors.json), the
// colours shared with colors.js, and the editor's state field kept right
// through local, remote and unknown changes and a sync.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { EditorState } from '@codemirror/state'
import { applyOp, authorsField, authorOf, fromAPI, keysOf, replayed, setAuthorSpans, setAuthorView, startAuthorSync, spansLength } from '../src/authors.js'
import { assignColors } from '../src/colors.js'

const vectors = JSON.parse(readFileSync(new URL('../../authorship/testdata/vectors.json', import.meta.url), 'utf8'))

test('the shared vectors: spans through an op', () => {
  assert.ok(vectors.apply.length > 0)
  for (const c of vectors.apply) {
    assert.deepEqual(applyOp(c.runs.map(r => [...r]), c.op, c.author), c.want, c.name)
  }
})

test('the shared vectors: colours as the server gives them in the legend', () => {
  for (const c of vectors.colors) assert.deepEqual(Object.fromEntries(assignColors(c.keys)), c.want)
})

test('an op that does not fit the spans throws', () => {
  assert.throws(() => applyOp([[3, null]], [5, 'x'], 'n:a'))
  assert.throws(() => applyOp([[3, null]], [1, 'x'], 'n:a'))
})

test('fromAPI reads spans by index into spans by key', () => {
  const got = fromAPI({ rev: 4, spans: [[3, -1], [2, 0], [1, 1]], authors: [{ key: 'n:ada', name: 'Ada' }, { key: 'p:mX', name: 'Grace' }] })
  assert.deepEqual(got.spans, [[3, null], [2, 'n:ada'], [1, 'p:mX']])
  assert.deepEqual(keysOf(got.spans), ['n:ada', 'p:mX'])
  assert.equal(spansLength(got.spans), 6)
})

test('the state field: my typing, a peer\'s op, an unknown author, a sync', () => {
  let state = EditorState.create({ doc: 'tmpl', extensions: [authorsField] })
  const field = () => state.field(authorsField)
  state = state.update({ effects: [setAuthorView.of({ me: 'n:me', colors: new Map(), on: true }), setAuthorSpans.of({ spans: [[4, null]] })] }).state
  state = state.update({ changes: { from: 2, insert: 'ab' } }).state
  assert.deepEqual(field().spans, [[2, null], [2, 'n:me'], [2, null]])
  state = state.update({ changes: { from: 0, to: 1, insert: 'Z' }, annotations: authorOf.of('p:mGrace') }).state
  assert.deepEqual(field().spans, [[1, 'p:mGrace'], [1, null], [2, 'n:me'], [2, null]])
  assert.equal(field().unknown, false)
  // An insert by someone not known here marks a sync as due.
  state = state.update({ changes: { from: 6, insert: '!' }, annotations: authorOf.of(null) }).state
  assert.equal(field().unknown, true)
  assert.equal(spansLength(/** @type {any} */ (field().spans)), state.doc.length)
  // A sync: changes while it is under way are recorded and replayed.
  state = state.update({ effects: startAuthorSync.of(null) }).state
  assert.equal(field().unknown, false)
  state = state.update({ changes: { from: 0, insert: 'Q' } }).state
  const fromServer = [[1, 'p:mGrace'], [1, null], [2, 'n:me'], [2, null], [1, 'n:api']]
  const spans = replayed(fromServer, [], field().me, field().log || [])
  state = state.update({ effects: setAuthorSpans.of({ spans }) }).state
  assert.deepEqual(field().spans, [[1, 'n:me'], [1, 'p:mGrace'], [1, null], [2, 'n:me'], [2, null], [1, 'n:api']])
  assert.equal(field().log, null)
})

test('replayed applies my unconfirmed ops, then what came since', () => {
  assert.deepEqual(replayed([[2, 'n:a']], [[2, 'xy']], 'n:me', [{ op: ['Z', 4], key: 'n:b' }]), [[1, 'n:b'], [2, 'n:a'], [2, 'n:me']])
})
