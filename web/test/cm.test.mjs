import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EditorState, ChangeSet } from '@codemirror/state'
import * as ot from '../src/ot.js'
import { changesToOp, opToChanges, hexAlpha, safeColor } from '../src/cm.js'
import { prng } from '../testlib/sim.mjs'

const nl = EditorState.lineSeparator.of('\n')

test('changesToOp: a CodeMirror change becomes the same ot operation', () => {
  const state = EditorState.create({ doc: 'héllo 😀 world', extensions: [nl] })
  const tr = state.update({ changes: [{ from: 0, to: 1, insert: 'H' }, { from: 6, to: 8, insert: '👍🏽' }, { from: 14, insert: '!' }] })
  const op = changesToOp(tr.changes, state.doc.length)
  assert.deepEqual(op, ['H', -1, 5, '👍🏽', -2, 6, '!'])
  assert.equal(ot.apply(state.doc.toString(), op), tr.state.doc.toString())
})

test('opToChanges: an ot operation applied by CodeMirror gives ot.apply\'s text', () => {
  const doc = 'a😀b\r\nc'
  const state = EditorState.create({ doc, extensions: [nl] })
  assert.equal(state.doc.length, doc.length, '"\\r" stays a character with lineSeparator "\\n"')
  const op = [1, 'é', -2, 1, '\n', 3]
  const next = state.update({ changes: opToChanges(op) }).state
  assert.equal(next.doc.toString(), ot.apply(doc, op))
})

test('property: round trips through CodeMirror for random edits with emoji', () => {
  const rand = prng(7)
  const alphabet = ['a', 'é', '😀', '\n', '中', ' ']
  let state = EditorState.create({ doc: '', extensions: [nl] })
  for (let i = 0; i < 500; i++) {
    const text = state.doc.toString()
    const specs = []
    let pos = 0
    while (pos <= text.length && specs.length < 3) {
      const from = pos + Math.floor(rand() * 4)
      if (from > text.length) break
      let to = Math.min(text.length, from + Math.floor(rand() * 3))
      // keep surrogate pairs whole
      const fix = p => (p > 0 && p < text.length && /[\udc00-\udfff]/.test(text[p])) ? p + 1 : p
      const f = fix(from)
      to = Math.max(f, fix(to))
      specs.push({ from: f, to, insert: rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)] : '' })
      pos = to + 1
    }
    const tr = state.update({ changes: ChangeSet.of(specs, text.length, '\n') })
    const op = changesToOp(tr.changes, text.length)
    assert.equal(ot.apply(text, op), tr.state.doc.toString())
    const back = state.update({ changes: opToChanges(op) }).state
    assert.equal(back.doc.toString(), tr.state.doc.toString())
    state = tr.state
  }
})

test('colours going into style attributes are plain hex or a default', () => {
  assert.equal(safeColor('#1971c2'), '#1971c2')
  assert.equal(safeColor('red;background:url(x)'), '#868e96')
  assert.equal(hexAlpha('#ff0000', 0.25), 'rgba(255, 0, 0, 0.25)')
  assert.equal(hexAlpha('x', 0.25), 'rgba(134, 142, 150, 0.25)')
})
