// gen-vectors.mjs writes vectors.json, the golden cases that both OT
// implementations must agree on: ot/vectors_test.go (Go) and
// web/test/vectors.test.mjs (browser). Expected values come from
// web/src/ot.js; a few are also written out by hand below, and the script
// stops if ot.js disagrees with them. Regenerate (only after a deliberate
// change of behaviour) with:
//
//	node ot/testdata/gen-vectors.mjs > ot/testdata/vectors.json
//
// Offsets are UTF-16 code units: "😀" and "𠮷" count 2, "日" and "é" count 1.
import assert from 'node:assert/strict'
import * as ot from '../../web/src/ot.js'

const emoji = '😀' // U+1F600, a surrogate pair
const family = '👨‍👩‍👧' // three pairs joined by two ZWJs: 8 units
const cjk = '日本語のテキスト'
const kanjiB = '𠮷野家' // U+20BB7 is outside the BMP: 4 units

const applyCases = [
  ['empty doc, insert', '', ['abc']],
  ['retain all', 'hello', [5]],
  ['insert middle', 'hello', [2, 'XY', 3]],
  ['delete middle', 'hello', [1, -3, 1]],
  ['replace all', 'hello', ['bye', -5]],
  ['insert emoji between letters', 'ab', [1, emoji, 1]],
  ['delete an emoji (2 units)', `a${emoji}b`, [1, -2, 1]],
  ['keep an emoji, insert after it', `${emoji}x`, [2, 'y', 1]],
  ['ZWJ family deleted whole', `<${family}>`, [1, -8, 1]],
  ['insert CJK into CJK', cjk, [3, '的', 5]],
  ['delete CJK', cjk, [3, -1, 4]],
  ['astral CJK: delete 𠮷', kanjiB, [-2, 2]],
  ['astral CJK: insert after 𠮷', kanjiB, [2, '🍣', 2]],
  ['mixed', `é${emoji}日`, [1, -2, '月', 1]],
  ['CRLF kept as two units', 'a\r\nb', [1, -2, '\n', 1]],
  // Refused by both: the base length is not the document's.
  ['base too short', 'hello', [4], true],
  ['base too long', 'hello', [6], true],
  ['emoji counted as one unit', `${emoji}`, [1], true]
]

const composeCases = [
  ['insert then insert', 'abc', [1, 'X', 2], [2, 'Y', 2]],
  ['insert then delete it', 'abc', [1, 'X', 2], [1, -1, 2]],
  ['delete then insert', 'abc', [-1, 2], ['Z', 2]],
  ['emoji typed then a letter', 'ab', [1, emoji, 1], [3, '!', 1]],
  ['emoji typed then deleted', 'ab', [1, emoji, 1], [1, -2, 1]],
  ['CJK IME: composition replaced', 'x', [1, 'にほん'], [1, -3, '日本']],
  ['astral delete then insert', kanjiB, [-2, 2], ['吉', 2]]
]

const transformCases = [
  ['both insert at one position: a first', 'abc', [1, 'A', 2], [1, 'B', 2]],
  ['insert before delete', 'abcdef', [1, 'X', 5], [2, -2, 2]],
  ['overlapping deletes', 'abcdef', [1, -3, 2], [2, -3, 1]],
  ['same delete', 'abcdef', [1, -2, 3], [1, -2, 3]],
  ['insert inside a deleted range', 'abcdef', [3, 'X', 3], [1, -4, 1]],
  ['emoji vs letter at one position', 'ab', [1, emoji, 1], [1, 'z', 1]],
  ['delete an emoji vs insert after it', `a${emoji}b`, [1, -2, 1], [3, '!', 1]],
  ['ZWJ family: delete vs insert inside it', `${family}`, [-8], [4, 'x', 4]],
  ['CJK both sides', cjk, [2, '漢', 6], [4, -2, '字', 2]],
  ['astral CJK delete vs insert at start', kanjiB, [-2, 2], ['前', 4]],
  ['noop vs insert', 'abc', [3], [3, 'd']]
]

const indexCases = [
  ['insert before', [1, 'XY', 3], 2],
  ['insert exactly at: moves right', [2, 'XY', 2], 2],
  ['insert after', [3, 'XY', 1], 2],
  ['delete before', [-2, 2], 3],
  ['inside a deleted range', [1, -3], 2],
  ['end of a deleted range', [1, -3], 4],
  ['clamped below', [4], -5],
  ['clamped above', [4, 'x'], 99],
  ['after an emoji insert', [emoji, 2], 1],
  ['after an emoji delete', [-2, 3], 4],
  ['CJK insert before', ['日本', 3], 3],
  ['ZWJ family deleted around the cursor', [1, -8, 1], 5]
]

const selectionCases = [
  ['cursor and range', [1, 'XY', 4], [{ anchor: 0, head: 0 }, { anchor: 2, head: 4 }]],
  ['collapsed cursor stays collapsed at an insert', [2, emoji, 2], [{ anchor: 2, head: 2 }]],
  ['backwards range over a delete', [1, -2, 2], [{ anchor: 5, head: 1 }]],
  ['range over a deleted emoji', [`x${emoji}`.length, -2, 1], [{ anchor: 1, head: 5 }]],
  ['CJK', ['「', 8, '」'], [{ anchor: 0, head: 8 }, { anchor: 4, head: 4 }]]
]

const vectors = {
  apply: applyCases.map(([name, doc, op, error]) => {
    if (error) {
      assert.throws(() => ot.apply(doc, op), ot.OTError, name)
      return { name, doc, op, error: true }
    }
    return { name, doc, op, want: ot.apply(doc, op) }
  }),
  compose: composeCases.map(([name, doc, a, b]) => {
    const want = ot.compose(a, b)
    assert.equal(ot.apply(doc, want), ot.apply(ot.apply(doc, a), b), name)
    return { name, doc, a, b, want }
  }),
  transform: transformCases.map(([name, doc, a, b]) => {
    const [aPrime, bPrime] = ot.transform(a, b)
    assert.equal(ot.apply(ot.apply(doc, a), bPrime), ot.apply(ot.apply(doc, b), aPrime), name)
    return { name, doc, a, b, aPrime, bPrime }
  }),
  transformIndex: indexCases.map(([name, op, pos]) => ({ name, op, pos, want: ot.transformIndex(pos, op) })),
  transformSelection: selectionCases.map(([name, op, sel]) => ({ name, op, sel, want: ot.transformSelection(sel, op) }))
}

// Checked by hand.
const byName = (list, name) => list.find(c => c.name === name)
assert.equal(byName(vectors.apply, 'insert emoji between letters').want, 'a😀b')
assert.equal(byName(vectors.apply, 'astral CJK: insert after 𠮷').want, '𠮷🍣野家')
assert.equal(byName(vectors.apply, 'mixed').want, 'é月日')
assert.deepEqual(byName(vectors.compose, 'emoji typed then a letter').want, [1, '😀!', 1])
assert.deepEqual(byName(vectors.compose, 'CJK IME: composition replaced').want, [1, '日本'])
const tie = byName(vectors.transform, 'both insert at one position: a first')
assert.deepEqual([tie.aPrime, tie.bPrime], [[1, 'A', 3], [2, 'B', 2]])
const del = byName(vectors.transform, 'delete an emoji vs insert after it')
assert.deepEqual([del.aPrime, del.bPrime], [[1, -2, 2], [1, '!', 1]])
assert.equal(byName(vectors.transformIndex, 'insert exactly at: moves right').want, 4)
assert.equal(byName(vectors.transformIndex, 'after an emoji insert').want, 3)
assert.equal(byName(vectors.transformIndex, 'ZWJ family deleted around the cursor').want, 1)
assert.deepEqual(byName(vectors.transformSelection, 'range over a deleted emoji').want, [{ anchor: 1, head: 3 }])

process.stdout.write(JSON.stringify(vectors, null, 1) + '\n')
